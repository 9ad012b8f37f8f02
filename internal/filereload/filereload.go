// Package filereload keeps a value parsed from files and parses it again
// when one of them changes: a certificate or a key rotated by rewriting its
// file is used without a restart. The files are looked at (one stat each)
// at most once a second, so a burst of callers is not a burst of system
// calls, and a change caught half-written keeps the last good value until
// the files are whole again.
package filereload

import (
	"os"
	"sync"
	"time"
)

// CheckEvery bounds how often the files are looked at.
const CheckEvery = time.Second

// Options tell the owner what happened; both may be nil.
type Options struct {
	// OnError is called once per change of the files that could not be
	// parsed; the previous value stays in use.
	OnError func(error)
	// OnReload is called after a changed set of files was parsed.
	OnReload func()
}

// Value is the current parse of a set of files.
type Value[T any] struct {
	files []string
	parse func() (T, error)
	opts  Options

	mu      sync.Mutex
	v       T
	stamps  []stamp
	checked time.Time
}

// stamp identifies a version of a file without reading it.
type stamp struct {
	mod  time.Time
	size int64
}

// New parses the files once: an error here is the caller's to report (a
// configuration error). Empty names in files are skipped.
func New[T any](files []string, parse func() (T, error), opts Options) (*Value[T], error) {
	r := &Value[T]{files: files, parse: parse, opts: opts}
	r.stamps = r.stat()
	v, err := parse()
	if err != nil {
		return nil, err
	}
	r.v, r.checked = v, time.Now()
	return r, nil
}

func (r *Value[T]) stat() []stamp {
	out := make([]stamp, len(r.files))
	for i, f := range r.files {
		if f == "" {
			continue
		}
		if fi, err := os.Stat(f); err == nil {
			out[i] = stamp{fi.ModTime(), fi.Size()}
		}
	}
	return out
}

func equal(a, b []stamp) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// Get returns the value, parsed again first when a file changed since the
// last look.
func (r *Value[T]) Get() T {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.checked) < CheckEvery {
		return r.v
	}
	r.checked = time.Now()
	stamps := r.stat()
	if equal(stamps, r.stamps) {
		return r.v
	}
	r.stamps = stamps
	v, err := r.parse()
	if err != nil {
		if r.opts.OnError != nil {
			r.opts.OnError(err)
		}
		return r.v
	}
	r.v = v
	if r.opts.OnReload != nil {
		r.opts.OnReload()
	}
	return v
}
