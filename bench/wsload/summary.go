package main

import (
	"math"
	"slices"
	"time"
)

// summary is the line printed on exit.
//
// distinct_seq sums, over the clients, how many distinct events each one received: publisher
// sequence numbers, or response ids of the app's comments. With P events published to every
// client's unit, complete delivery is P × ready. client_distinct holds each client's own count,
// in client order (client i watched unit i % len(-units)), for units that get different events.
type summary struct {
	Event       string         `json:"event"`
	Mode        string         `json:"mode"`
	Clients     int            `json:"clients"`
	Ready       int            `json:"ready"`
	Failed      int            `json:"failed"`
	FailReasons map[string]int `json:"fail_reasons"`
	Dropped     int            `json:"dropped"`
	CloseCodes  map[string]int `json:"close_codes"`
	Frames      int64          `json:"frames"`
	Events      int64          `json:"events"`
	OtherFrames int64          `json:"other_frames"`
	DistinctSeq int64          `json:"distinct_seq"`
	Duplicates  int64          `json:"duplicates"`
	PerClient   []int64        `json:"client_distinct"`
	LatencyMs   latency        `json:"latency_ms"`
	RampS       float64        `json:"ramp_s"`
	HeldS       float64        `json:"held_s"`
}

type latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func summarize(cfg config, clients []*client, ramp, held time.Duration) summary {
	s := summary{
		Event: "summary", Mode: cfg.mode, Clients: cfg.clients,
		FailReasons: map[string]int{}, CloseCodes: map[string]int{},
		PerClient: make([]int64, cfg.clients), RampS: ramp.Seconds(), HeldS: held.Seconds(),
	}
	// Clients the ramp never started (stopped early) failed too.
	s.Failed = cfg.clients - len(clients)
	if s.Failed > 0 {
		s.FailReasons["not started"] = s.Failed
	}
	total := 0
	for _, c := range clients {
		total += len(c.latencies)
	}
	all := make([]int32, 0, total)
	for i, c := range clients {
		c.countIDs()
		s.PerClient[i] = c.distinct
		if c.isReady() {
			s.Ready++
		} else {
			s.Failed++
			s.FailReasons[c.failure]++
		}
		if c.dropped {
			s.Dropped++
			s.CloseCodes[c.dropCode]++
		}
		s.Frames += c.frames
		s.Events += c.events
		s.OtherFrames += c.other
		s.DistinctSeq += c.distinct
		s.Duplicates += c.duplicates
		all = append(all, c.latencies...)
	}
	slices.Sort(all)
	s.LatencyMs = latency{
		P50: millis(percentile(all, 0.50)),
		P90: millis(percentile(all, 0.90)),
		P99: millis(percentile(all, 0.99)),
		Max: millis(percentile(all, 1)),
	}
	return s
}

// percentile is the nearest-rank value below which `share` of the sorted values lie; 0 for none.
func percentile(sorted []int32, share float64) int32 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(share*float64(len(sorted)))) - 1
	return sorted[max(rank, 0)]
}

func millis(micros int32) float64 {
	return math.Round(float64(micros)/10) / 100
}
