package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Batch frames of the cockpit and Centrifugo's newline-joined pushes can be large.
const readLimit = 64 << 20

const writeTimeout = 5 * time.Second

var (
	keySentNs      = []byte(`"sent_ns"`)
	keySeq         = []byte(`"seq"`)
	keyType        = []byte(`"type"`)
	keyResponseID  = []byte(`"response_id"`)
	keySubmittedAt = []byte(`"submitted_at"`)
	pingFrame      = []byte(`{}`)
)

// client is one websocket connection. Its counters are written by its own goroutine only and
// read after that goroutine has ended.
type client struct {
	cfg   *config
	token string
	unit  string

	mu       sync.Mutex
	conn     *websocket.Conn
	stopping bool
	ready    atomic.Bool

	failure  string // why it never got ready
	dropped  bool   // the server ended it after it was ready
	dropCode string

	frames, events, other int64
	latencies             []int32 // µs from sent_ns (or submitted_at) to arrival, one per event
	seen                  []uint64
	distinct, duplicates  int64
	ids                   []uint64 // a hash of each comment's response_id, counted at the end
}

func newClient(cfg config, i int) *client {
	return &client{cfg: &cfg, token: cfg.tokens[i%len(cfg.tokens)], unit: cfg.units[i%len(cfg.units)]}
}

func (c *client) isReady() bool { return c.ready.Load() }

// run connects and subscribes, tells `settled`, then reads until the connection ends.
func (c *client) run(settled chan<- struct{}) {
	if err := c.connect(); err != nil {
		c.failure = describe(err)
		c.mu.Lock()
		if c.conn != nil {
			_ = c.conn.CloseNow()
		}
		c.mu.Unlock()
		settled <- struct{}{}
		return
	}
	c.ready.Store(true)
	settled <- struct{}{}
	err := c.readLoop()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopping {
		c.dropped = true
		c.dropCode = closeCode(err)
	}
}

// stop closes the connection at once, without a close handshake; a client still connecting
// gives up.
func (c *client) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopping = true
	if c.conn != nil {
		_ = c.conn.CloseNow()
	}
}

func (c *client) connect() error {
	ctx, cancel := withTimeout(c.cfg.readyTimeout)
	defer cancel()
	opts := &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled}
	if c.cfg.mode == "voc" {
		opts.HTTPHeader = http.Header{"Authorization": {"Bearer " + c.token}}
	}
	conn, resp, err := websocket.Dial(ctx, c.cfg.url, opts)
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return fmt.Errorf("http %d", resp.StatusCode)
		}
		return err
	}
	conn.SetReadLimit(readLimit)
	c.mu.Lock()
	c.conn = conn
	stopping := c.stopping
	c.mu.Unlock()
	if stopping {
		_ = conn.CloseNow()
		return errors.New("stopped while connecting")
	}
	if c.cfg.mode == "voc" {
		return c.subscribeVoc(ctx)
	}
	return c.subscribeCentrifugo(ctx)
}

// subscribeVoc sends the cockpit's subscribe message and waits for the `subscribed` reply.
func (c *client) subscribeVoc(ctx context.Context) error {
	message, _ := json.Marshal(map[string]any{"type": "subscribe", "org_units": []string{c.unit}})
	if err := c.conn.Write(ctx, websocket.MessageText, message); err != nil {
		return err
	}
	for {
		frame, err := c.read(ctx)
		if err != nil {
			return err
		}
		var reply struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(frame, &reply); err != nil {
			return fmt.Errorf("unreadable reply to subscribe: %w", err)
		}
		switch reply.Type {
		case "subscribed":
			return nil
		case "error":
			return fmt.Errorf("error frame: %s", reply.Message)
		}
	}
}

// subscribeCentrifugo sends the JSON protocol's connect command with the JWT, then subscribes.
func (c *client) subscribeCentrifugo(ctx context.Context) error {
	connect, _ := json.Marshal(map[string]any{"id": 1, "connect": map[string]string{"token": c.token}})
	if err := c.command(ctx, 1, connect); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	subscribe, _ := json.Marshal(map[string]any{"id": 2, "subscribe": map[string]string{"channel": c.unit}})
	if err := c.command(ctx, 2, subscribe); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	return nil
}

// command sends one command and reads until the reply with its id, answering pings meanwhile.
func (c *client) command(ctx context.Context, id int, message []byte) error {
	if err := c.conn.Write(ctx, websocket.MessageText, message); err != nil {
		return err
	}
	for {
		frame, err := c.read(ctx)
		if err != nil {
			return err
		}
		for _, line := range bytes.Split(frame, []byte("\n")) {
			line = bytes.TrimSpace(line)
			if len(line) == 0 {
				continue
			}
			if bytes.Equal(line, pingFrame) {
				if err := c.pong(); err != nil {
					return err
				}
				continue
			}
			var reply struct {
				ID    int `json:"id"`
				Error *struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(line, &reply); err != nil {
				return fmt.Errorf("unreadable reply: %w", err)
			}
			if reply.ID != id {
				continue
			}
			if reply.Error != nil {
				return fmt.Errorf("error %d %s", reply.Error.Code, reply.Error.Message)
			}
			return nil
		}
	}
}

func (c *client) pong() error {
	ctx, cancel := withTimeout(writeTimeout)
	defer cancel()
	return c.conn.Write(ctx, websocket.MessageText, pingFrame)
}

// read returns the next message, during the handshake: these frames are not counted.
func (c *client) read(ctx context.Context) ([]byte, error) {
	_, data, err := c.conn.Read(ctx)
	return data, err
}

// readLoop reads until the connection ends, accounting every frame, and returns why it ended.
func (c *client) readLoop() error {
	var buf bytes.Buffer
	for {
		_, r, err := c.conn.Reader(context.Background())
		if err != nil {
			return err
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			return err
		}
		c.frames++
		if err := c.handle(buf.Bytes()); err != nil {
			return err
		}
	}
}

func (c *client) handle(frame []byte) error {
	if c.cfg.mode == "voc" {
		c.account(frame)
		return nil
	}
	// Centrifugo joins several replies and pushes in one frame, one JSON object a line.
	for len(frame) > 0 {
		line := frame
		if i := bytes.IndexByte(frame, '\n'); i >= 0 {
			line, frame = frame[:i], frame[i+1:]
		} else {
			frame = nil
		}
		if bytes.Equal(bytes.TrimSpace(line), pingFrame) {
			c.other++
			if err := c.pong(); err != nil {
				return err
			}
			continue
		}
		c.account(line)
	}
	return nil
}

// account records the events in `data`. An event the benchmark's publisher wrote carries
// `"sent_ns":N` followed by `"seq":M` at its top level (no nested object uses these keys): its
// latency runs from sent_ns and its seq counts it. A frame without any is read as the app's
// own events (a frame with some is read the first way only, which costs the hub benchmark
// nothing more): each `comment` event counts by its `data.response_id`, timed from its
// `data.submitted_at` (see accountComments). One event, a cockpit batch frame of several, or a
// Centrifugo push all work alike. Data without events (a barometer, a reply) counts as another
// frame.
func (c *client) account(data []byte) {
	if c.cfg.idle {
		c.other++
		return
	}
	now := time.Now().UnixNano()
	found := false
	for {
		sent, rest, ok := intAfter(data, keySentNs)
		if !ok {
			break
		}
		seq, rest, ok := intAfter(rest, keySeq)
		if !ok {
			break
		}
		data = rest
		found = true
		c.record(now, sent, seq)
	}
	if !found {
		found = c.accountComments(data, now)
	}
	if !found {
		c.other++
	}
}

// accountComments records the `comment` events in `data`, as the cockpit frames them: an
// event's `"type"` comes before its `data` (whose own objects have no `"type"`), so an event
// runs from its `"type"` to the next one. A comment counts if it has a `response_id` (starting
// with -id-prefix, when given) and a `submitted_at` (RFC 3339) it can read. Whether any did.
func (c *client) accountComments(data []byte, now int64) bool {
	found := false
	kind, rest, ok := stringAfter(data, keyType)
	for ok {
		event := rest
		next := bytes.Index(rest, keyType)
		if next >= 0 {
			event = rest[:next]
		}
		if string(kind) == "comment" && c.comment(now, event) {
			found = true
		}
		if next < 0 {
			break
		}
		kind, rest, ok = stringAfter(rest[next:], keyType)
	}
	return found
}

func (c *client) comment(now int64, event []byte) bool {
	id, after, ok := stringAfter(event, keyResponseID)
	if !ok || !bytes.HasPrefix(id, c.cfg.idPrefix) {
		return false
	}
	// submitted_at follows response_id in a ResponseView: look there first.
	stamp, _, ok := stringAfter(after, keySubmittedAt)
	if !ok {
		if stamp, _, ok = stringAfter(event, keySubmittedAt); !ok {
			return false
		}
	}
	submitted, ok := parseTime(stamp)
	if !ok {
		return false
	}
	c.events++
	c.latencies = append(c.latencies, micros(now-submitted))
	c.ids = append(c.ids, fnv64a(id))
	return true
}

func (c *client) record(now, sent, seq int64) {
	c.events++
	c.latencies = append(c.latencies, micros(now-sent))
	if seq < 0 {
		return
	}
	word, bit := int(seq/64), uint64(1)<<(seq%64)
	for len(c.seen) <= word {
		c.seen = append(c.seen, 0)
	}
	if c.seen[word]&bit != 0 {
		c.duplicates++
		return
	}
	c.seen[word] |= bit
	c.distinct++
}

// countIDs adds the distinct response ids among the comments received to distinct, and the
// repeats to duplicates; once, after the client has stopped.
func (c *client) countIDs() {
	if len(c.ids) == 0 {
		return
	}
	slices.Sort(c.ids)
	unique := int64(len(slices.Compact(c.ids)))
	c.distinct += unique
	c.duplicates += int64(len(c.ids)) - unique
	c.ids = nil
}

// micros is a latency in whole microseconds, clamped to what an int32 holds; 0 if negative.
func micros(ns int64) int32 {
	return int32(min(max(ns/1000, 0), 1<<31-1))
}

// fnv64a hashes a response id: 8 bytes a comment instead of a string in a map, and at a few
// hundred thousand ids a collision is a one-in-10^8 chance.
func fnv64a(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, x := range b {
		h ^= uint64(x)
		h *= 1099511628211
	}
	return h
}

// stringAfter finds `key`, then `:` (whitespace allowed around it) and a JSON string without
// escapes; it returns the string's bytes and the data after it.
func stringAfter(data, key []byte) ([]byte, []byte, bool) {
	i := bytes.Index(data, key)
	if i < 0 {
		return nil, nil, false
	}
	rest := bytes.TrimLeft(data[i+len(key):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return nil, rest, false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return nil, rest, false
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 {
		return nil, nil, false
	}
	return rest[1 : 1+end], rest[end+2:], true
}

// intAfter finds `key`, then `:` (whitespace allowed around it) and an integer; it returns the
// integer and the data after it.
func intAfter(data, key []byte) (int64, []byte, bool) {
	i := bytes.Index(data, key)
	if i < 0 {
		return 0, nil, false
	}
	rest := bytes.TrimLeft(data[i+len(key):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return 0, rest, false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	var n int64
	digits := 0
	negative := len(rest) > 0 && rest[0] == '-'
	if negative {
		rest = rest[1:]
	}
	for digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' {
		n = n*10 + int64(rest[digits]-'0')
		digits++
	}
	if digits == 0 {
		return 0, rest, false
	}
	if negative {
		n = -n
	}
	return n, rest[digits:], true
}

// describe names why a client failed to get ready, in few enough words to be counted.
func describe(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	if code := websocket.CloseStatus(err); code != -1 {
		return fmt.Sprintf("closed %d", code)
	}
	message := err.Error()
	if strings.HasPrefix(message, "http ") || strings.HasPrefix(message, "error") {
		return message
	}
	parts := strings.Split(message, ": ")
	return parts[len(parts)-1]
}

func closeCode(err error) string {
	if code := websocket.CloseStatus(err); code != -1 {
		return fmt.Sprintf("%d", int(code))
	}
	return "none"
}
