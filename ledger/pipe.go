package ledger

import (
	"iter"
	"sync"
)

// pipeBatch is how many items cross between goroutines at a time: large
// enough that channel handoffs cost nothing next to hashing.
const pipeBatch = 512

type piped[U any] struct {
	v   U
	err error
}

// pipe drains seq on its own goroutine, mapping each item with fn there, so
// reading storage and per-leaf hashing overlap with the sequential tree
// recomputation. next returns the items in order; stop ends the goroutine
// (closing the underlying stream) and waits for it.
func pipe[T, U any](seq iter.Seq2[T, error], fn func(T) U) (next func() (U, error, bool), stop func()) {
	ch := make(chan []piped[U], 4)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(ch)
		batch := make([]piped[U], 0, pipeBatch)
		send := func() bool {
			select {
			case ch <- batch:
				batch = make([]piped[U], 0, pipeBatch)
				return true
			case <-done:
				return false
			}
		}
		for t, err := range seq {
			p := piped[U]{err: err}
			if err == nil {
				p.v = fn(t)
			}
			batch = append(batch, p)
			if err != nil || len(batch) == pipeBatch {
				if !send() || err != nil {
					return
				}
			}
		}
		if len(batch) > 0 {
			send()
		}
	})
	var cur []piped[U]
	next = func() (U, error, bool) {
		for len(cur) == 0 {
			b, ok := <-ch
			if !ok {
				var zero U
				return zero, nil, false
			}
			cur = b
		}
		p := cur[0]
		cur = cur[1:]
		return p.v, p.err, true
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(done)
			for range ch { //nolint:revive // drain so the producer can exit
			}
			wg.Wait()
		})
	}
	return next, stop
}
