package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/service"
)

// TestSweepFlags: --as-of takes a YYYY-MM-DD date and only goes with
// --dry-run; the errors say what to write instead.
func TestSweepFlags(t *testing.T) {
	opts, err := sweepOptions(true, "2031-01-02")
	if err != nil || !opts.DryRun || !opts.AsOf.Equal(time.Date(2031, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("--dry-run --as-of 2031-01-02: %+v %v", opts, err)
	}
	if opts, err := sweepOptions(false, ""); err != nil || opts.DryRun || !opts.AsOf.IsZero() {
		t.Errorf("no flags: %+v %v", opts, err)
	}
	if _, err := sweepOptions(false, "2031-01-02"); !errors.Is(err, service.ErrAsOfNeedsDryRun) || !strings.Contains(err.Error(), "--dry-run") {
		t.Errorf("--as-of without --dry-run: %v, want the ErrAsOfNeedsDryRun", err)
	}
	for _, bad := range []string{"02/01/2031", "2031-13-01", "amanhã"} {
		if _, err := sweepOptions(true, bad); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
			t.Errorf("--as-of %s: %v, want a format error naming YYYY-MM-DD", bad, err)
		}
	}
}
