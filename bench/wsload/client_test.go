package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func event(seq int, sentNs int64) string {
	return fmt.Sprintf(`{"id":%d,"type":"comment","org_unit":"paris-01","sent_ns":%d,"seq":%d,"data":{"comment":"late"}}`, 100+seq, sentNs, seq)
}

func TestAccountCountsSingleAndBatchedEvents(t *testing.T) {
	c := newClient(config{mode: "voc", tokens: []string{"t"}, units: []string{"u"}}, 0)
	sent := time.Now().UnixNano()
	c.account([]byte(event(0, sent)))
	c.account([]byte(`{"type":"batch","events":[` + event(1, sent) + "," + event(2, sent) + "]}"))
	c.account([]byte(event(2, sent)))
	c.account([]byte(`{"type":"barometer","scope":{"org_units":["paris-01"]},"data":{}}`))
	if c.events != 4 || c.distinct != 3 || c.duplicates != 1 || c.other != 1 {
		t.Fatalf("events %d distinct %d duplicates %d other %d", c.events, c.distinct, c.duplicates, c.other)
	}
	if len(c.latencies) != 4 || c.latencies[0] < 0 || c.latencies[0] > 1_000_000 {
		t.Fatalf("latencies %v", c.latencies)
	}
}

func TestAccountReadsSpacedJSON(t *testing.T) {
	c := newClient(config{mode: "voc", tokens: []string{"t"}, units: []string{"u"}}, 0)
	c.account([]byte(fmt.Sprintf(`{"type": "comment", "sent_ns" : %d, "seq": 7}`, time.Now().UnixNano())))
	if c.distinct != 1 || c.seen[0] != 1<<7 {
		t.Fatalf("distinct %d seen %v", c.distinct, c.seen)
	}
}

func TestHandleSplitsCentrifugoPushes(t *testing.T) {
	c := newClient(config{mode: "centrifugo", tokens: []string{"t"}, units: []string{"u"}}, 0)
	now := time.Now().UnixNano()
	push := func(seq int) string {
		return `{"push":{"channel":"paris-01","pub":{"data":` + event(seq, now) + `}}}`
	}
	if err := c.handle([]byte(push(0) + "\n" + push(1))); err != nil {
		t.Fatal(err)
	}
	if c.events != 2 || c.distinct != 2 || c.other != 0 {
		t.Fatalf("events %d distinct %d other %d", c.events, c.distinct, c.other)
	}
}

// appComment is a comment event as the cockpit frames it: no sent_ns, the time in data.
func appComment(id int, responseID, submitted string) string {
	return fmt.Sprintf(`{"id":%d,"type":"comment","org_unit":"store-0001","touchpoint":"delivery","data":{"response_id":%q,"survey_id":"nps-delivery","submitted_at":%q,"received_at":%q,"score":2,"score_kind":"nps","comment":"Two hours late and nobody called to tell us.","language":"en","channel":"sms","touchpoint":"delivery","org_unit":"store-0001","customer_type":"person","customer_ref":"•••123","contact":{"name":"J•••","email":"c•••@example.com","phone":"•••42"},"contact_masked":true,"polarity":-0.41,"dissatisfied":true,"severity":"high","comment_language":"en","negative_comment":true,"negative_probability":0.87,"reasons":[{"kind":"score","label":"NPS 2: very poor (0–3)"},{"kind":"text","label":"negative comment"}]}}`, id, responseID, submitted, submitted)
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00") }

func TestAccountCountsAppCommentsByResponseID(t *testing.T) {
	c := newClient(config{mode: "voc", tokens: []string{"t"}, units: []string{"u"}}, 0)
	now := time.Now()
	flag := strings.Replace(appComment(3, "r-1", stamp(now)), `"type":"comment"`, `"type":"flag"`, 1)
	c.account([]byte(appComment(1, "r-1", stamp(now.Add(-50*time.Millisecond)))))
	c.account([]byte(`{"type":"batch","events":[` + appComment(2, "r-2", stamp(now)) + "," + flag + "," +
		appComment(4, "r-1", stamp(now)) + `,{"type":"barometer","data":{"as_of":"2026-12-07T09:14:03Z"}}]}`))
	c.account([]byte(flag))
	c.account([]byte(`{"type":"barometer","scope":{"org_units":["store-0001"]},"data":{}}`))
	c.countIDs()
	if c.events != 3 || c.distinct != 2 || c.duplicates != 1 || c.other != 2 {
		t.Fatalf("events %d distinct %d duplicates %d other %d", c.events, c.distinct, c.duplicates, c.other)
	}
	if c.latencies[0] < 50_000 || c.latencies[0] > 1_050_000 {
		t.Fatalf("the first comment waited %d µs, not 50 ms and a bit", c.latencies[0])
	}
}

func TestAccountCountsOnlyCommentsWithThePrefix(t *testing.T) {
	c := newClient(config{mode: "voc", tokens: []string{"t"}, units: []string{"u"}, idPrefix: []byte("run-2-")}, 0)
	now := stamp(time.Now())
	c.account([]byte(appComment(1, "run-1-7", now)))
	c.account([]byte(appComment(2, "run-2-7", now)))
	c.countIDs()
	if c.events != 1 || c.distinct != 1 || c.other != 1 {
		t.Fatalf("events %d distinct %d other %d", c.events, c.distinct, c.other)
	}
}

func TestSummaryCountsEachClientsComments(t *testing.T) {
	cfg := config{mode: "voc", tokens: []string{"t"}, units: []string{"a", "b"}, clients: 2}
	clients := []*client{newClient(cfg, 0), newClient(cfg, 1)}
	now := stamp(time.Now())
	clients[0].account([]byte(appComment(1, "r-1", now)))
	clients[0].account([]byte(appComment(2, "r-2", now)))
	clients[1].account([]byte(appComment(3, "r-3", now)))
	s := summarize(cfg, clients, time.Second, time.Second)
	if s.DistinctSeq != 3 || s.PerClient[0] != 2 || s.PerClient[1] != 1 || s.Events != 3 {
		t.Fatalf("distinct %d per client %v events %d", s.DistinctSeq, s.PerClient, s.Events)
	}
}

func TestParseTimeReadsRFC3339AsTimeParseDoes(t *testing.T) {
	for _, text := range []string{
		"2026-12-07T09:14:03.120418Z",
		"2026-12-07T09:14:03.120418+00:00",
		"2026-12-07T09:14:03Z",
		"2026-12-07T09:14:03.1Z",
		"2026-12-07T09:14:03.123456789Z",
		"2026-03-01T00:00:00+02:00",
		"2024-02-29T23:59:59.999999-05:30",
		"2000-02-29T12:00:00Z",
		"1970-01-01T00:00:00Z",
		"1969-12-31T23:59:59Z",
		"0001-01-01T00:00:00Z",
		"9999-12-31T23:59:59Z",
	} {
		want, err := time.Parse(time.RFC3339Nano, text)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseUsual([]byte(text))
		if !ok || got != want.UnixNano() {
			t.Errorf("%s: got %d %v, want %d", text, got, ok, want.UnixNano())
		}
	}
}

func TestParseTimeRefusesWhatIsNotATime(t *testing.T) {
	for _, text := range []string{"", "2026-13-07T09:14:03Z", "2026-12-07 09:14:03", "2026-12-07T09:14:03.Z", "yesterday"} {
		if _, ok := parseTime([]byte(text)); ok {
			t.Errorf("%q read as a time", text)
		}
	}
}

func BenchmarkAccountAppComment(b *testing.B) {
	c := newClient(config{mode: "voc", tokens: []string{"t"}, units: []string{"u"}}, 0)
	frame := []byte(appComment(1, "e2e-0f3c9a2e-123456", stamp(time.Now())))
	b.ReportAllocs()
	for range b.N {
		c.account(frame)
		c.latencies, c.ids = c.latencies[:0], c.ids[:0]
	}
}
