// Command wsload opens many websocket clients against the cockpit hub (`voc api`, /ws) or
// Centrifugo, subscribes each to one channel, and reports what they received as one JSON line.
//
// It is the client side of bench/ws_hub.py: the same program for both servers, so the numbers
// differ by the server only. It is also that of bench/ws_e2e.py, whose events are the app's own
// comments: those are timed from their data.submitted_at and counted by data.response_id (see
// client.account). Clients connect at -rate a second so the handshake storm is not
// measured. Once every client is ready (subscribed) or has failed, it prints
//
//	{"event":"ready","clients":N,"ready":R,"failed":F,"ramp_s":S}
//
// and keeps the sockets open, reading, until -duration has passed or standard input closes
// (or SIGINT/SIGTERM). Then it closes them and prints the summary line (see summary.go).
//
//	wsload -mode voc -url ws://127.0.0.1:8000/ws -tokens T1,T2 -units paris-01 -clients 1000
//	wsload -mode centrifugo -url ws://127.0.0.1:8001/connection/websocket -tokens JWT -units paris-01
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

type config struct {
	mode         string
	url          string
	tokens       []string
	units        []string
	clients      int
	rate         float64
	readyTimeout time.Duration
	duration     time.Duration
	idle         bool
	idPrefix     []byte
}

func main() {
	cfg, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsload:", err)
		os.Exit(2)
	}
	if err := raiseFileLimit(cfg.clients); err != nil {
		fmt.Fprintln(os.Stderr, "wsload:", err)
		os.Exit(1)
	}
	emit(run(cfg))
}

func parseFlags() (config, error) {
	var cfg config
	var tokens, units, idPrefix string
	flag.StringVar(&cfg.mode, "mode", "voc", "server protocol: voc (the cockpit's /ws) or centrifugo")
	flag.StringVar(&cfg.url, "url", "", "websocket URL, e.g. ws://127.0.0.1:8000/ws")
	flag.StringVar(&tokens, "tokens", "", "comma-separated bearer tokens (voc) or connection JWTs (centrifugo); client i uses token i % n")
	flag.StringVar(&units, "units", "", "comma-separated org units (voc) or channels (centrifugo); client i subscribes to unit i % n")
	flag.IntVar(&cfg.clients, "clients", 100, "number of clients")
	flag.Float64Var(&cfg.rate, "rate", 500, "new connections a second")
	flag.DurationVar(&cfg.readyTimeout, "ready-timeout", 30*time.Second, "how long one client may take to connect and subscribe")
	flag.DurationVar(&cfg.duration, "duration", 0, "how long to hold the clients once all are ready; 0: until standard input closes")
	flag.BoolVar(&cfg.idle, "idle", false, "only connect, subscribe and hold the sockets: count frames, skip event accounting")
	flag.StringVar(&idPrefix, "id-prefix", "", "count only the app's comment events whose data.response_id starts with this")
	flag.Parse()
	cfg.idPrefix = []byte(idPrefix)
	cfg.tokens = split(tokens)
	cfg.units = split(units)
	switch {
	case cfg.mode != "voc" && cfg.mode != "centrifugo":
		return cfg, fmt.Errorf("-mode must be voc or centrifugo, not %q", cfg.mode)
	case cfg.url == "":
		return cfg, fmt.Errorf("-url is required")
	case len(cfg.tokens) == 0 || len(cfg.units) == 0:
		return cfg, fmt.Errorf("-tokens and -units need at least one value each")
	case cfg.clients < 1 || cfg.rate <= 0:
		return cfg, fmt.Errorf("-clients and -rate must be positive")
	}
	return cfg, nil
}

func split(list string) []string {
	var out []string
	for _, v := range strings.Split(list, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// raiseFileLimit lifts the soft limit on open files to the hard one: each client is a socket.
func raiseFileLimit(clients int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("reading the open-file limit: %w", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return fmt.Errorf("raising the open-file limit: %w", err)
		}
	}
	if need := uint64(clients) + 64; lim.Cur < need {
		return fmt.Errorf("%d clients need about %d open files; the hard limit is %d (ulimit -Hn)", clients, need, lim.Cur)
	}
	return nil
}

// run connects the clients at the configured rate, reports readiness, holds them until told
// to stop, closes them and returns what they saw.
func run(cfg config) summary {
	stop := stopSignal(cfg)
	clients := make([]*client, cfg.clients)
	var wg sync.WaitGroup
	settled := make(chan struct{}, cfg.clients)
	started := time.Now()
	interval := time.Duration(float64(time.Second) / cfg.rate)
	next := started
	stopped := false
	for i := range clients {
		if wait := time.Until(next); wait > 0 {
			select {
			case <-stop:
				stopped = true
			case <-time.After(wait):
			}
		}
		if stopped {
			clients = clients[:i]
			break
		}
		next = next.Add(interval)
		c := newClient(cfg, i)
		clients[i] = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.run(settled)
		}()
	}
	for range clients {
		if stopped {
			break
		}
		select {
		case <-settled:
		case <-stop:
			stopped = true
		}
	}
	readyAt := time.Now()
	ready, failed := 0, 0
	for _, c := range clients {
		if c.isReady() {
			ready++
		} else {
			failed++
		}
	}
	emit(map[string]any{
		"event": "ready", "clients": cfg.clients, "ready": ready, "failed": failed,
		"ramp_s": readyAt.Sub(started).Seconds(),
	})
	if !stopped {
		hold(cfg.duration, stop)
	}
	held := time.Since(readyAt)
	for _, c := range clients {
		c.stop()
	}
	wg.Wait()
	return summarize(cfg, clients, readyAt.Sub(started), held)
}

// stopSignal closes when standard input closes (not with -duration) or a signal arrives.
func stopSignal(cfg config) <-chan struct{} {
	stop := make(chan struct{})
	var once sync.Once
	fire := func() { once.Do(func() { close(stop) }) }
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-signals
		fire()
	}()
	if cfg.duration == 0 {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			fire()
		}()
	}
	return stop
}

// hold waits for the stop signal, or for d (when positive), whichever comes first.
func hold(d time.Duration, stop <-chan struct{}) {
	if d <= 0 {
		<-stop
		return
	}
	select {
	case <-stop:
	case <-time.After(d):
	}
}

func emit(v any) {
	line, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(line))
}

// withTimeout is context.WithTimeout from the background context, for one bounded operation.
func withTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
