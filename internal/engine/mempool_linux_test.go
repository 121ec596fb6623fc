package engine

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkFreeStopTheWorld: how long the garbage collector's
// stop-the-world waits ("stopping", the runtime's
// /sched/pauses/stopping/gc:seconds) while another goroutine resets 32 and
// 64 MiB pooled memories, with Free's piecewise zeroing against one
// clear() of the whole memory (what Free did before). The runtime cannot
// preempt inside a memclr, so a single clear holds every stop-the-world
// (and so every goroutine) for as long as it takes.
//
//	go test -run '^$' -bench FreeStopTheWorld -benchtime 2s ./internal/engine/
func BenchmarkFreeStopTheWorld(b *testing.B) {
	for _, size := range []uint64{32 << 20, 64 << 20} {
		for _, mode := range []string{"pieces", "one-clear"} {
			b.Run(fmt.Sprintf("%dMiB/%s", size>>20, mode), func(b *testing.B) {
				p := newMemPool(size)
				defer p.close()
				var stop atomic.Bool
				done := make(chan struct{})
				go func() {
					defer close(done)
					for !stop.Load() {
						m := p.get(zeroImage)
						if m == nil {
							panic("mmap failed")
						}
						buf := m.Reallocate(size)
						for i := 0; i < len(buf); i += 4096 {
							buf[i] = 1
						}
						if mode == "one-clear" {
							// Free's former reset; Free then has nothing to zero.
							clear(m.region[:m.used])
							m.used = 0
						}
						m.Free()
					}
				}()
				time.Sleep(20 * time.Millisecond)
				before := stoppingCounts()
				for b.Loop() {
					runtime.GC()
				}
				after := stoppingCounts()
				stop.Store(true)
				<-done
				p50, p99, top := stoppingQuantiles(before, after)
				b.ReportMetric(p50*1e6, "stop-p50-µs")
				b.ReportMetric(p99*1e6, "stop-p99-µs")
				b.ReportMetric(top*1e6, "stop-max-µs")
			})
		}
	}
}

const stoppingMetric = "/sched/pauses/stopping/gc:seconds"

func stoppingCounts() *metrics.Float64Histogram {
	s := []metrics.Sample{{Name: stoppingMetric}}
	metrics.Read(s)
	h := s[0].Value.Float64Histogram()
	return &metrics.Float64Histogram{Counts: append([]uint64(nil), h.Counts...), Buckets: h.Buckets}
}

// stoppingQuantiles returns the lower bounds of the buckets holding the
// p50, p99 and largest stop between two readings.
func stoppingQuantiles(before, after *metrics.Float64Histogram) (p50, p99, top float64) {
	var total uint64
	for i := range after.Counts {
		total += after.Counts[i] - before.Counts[i]
	}
	if total == 0 {
		return 0, 0, 0
	}
	var seen uint64
	var has50, has99 bool
	for i := range after.Counts {
		d := after.Counts[i] - before.Counts[i]
		if d == 0 {
			continue
		}
		seen += d
		lo := max(after.Buckets[i], 0) // the first bucket starts at -Inf
		if !has50 && seen*2 >= total {
			p50, has50 = lo, true
		}
		if !has99 && seen*100 >= total*99 {
			p99, has99 = lo, true
		}
		top = lo
	}
	return p50, p99, top
}
