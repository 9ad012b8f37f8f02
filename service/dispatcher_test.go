package service

import (
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/titular/titular/config"
)

func TestDispatcherBackoff(t *testing.T) {
	d := &Dispatcher{cfg: config.WebhookDelivery{MinBackoff: time.Second, MaxBackoff: 10 * time.Second}}
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 30: 10 * time.Second} {
		seen := map[time.Duration]bool{}
		for range 200 {
			got := d.backoff(attempt)
			if got < want/2 || got > want {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", attempt, got, want/2, want)
			}
			seen[got] = true
		}
		if len(seen) < 50 {
			t.Errorf("backoff(%d) took only %d distinct values: no jitter", attempt, len(seen))
		}
	}
}

func TestNetReasonHidesURL(t *testing.T) {
	err := &url.Error{Op: "Post", URL: "https://crm.example.com/hook?token=s3cr3t", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}
	if got := netReason(err); strings.Contains(got, "s3cr3t") || !strings.Contains(got, "dial") {
		t.Errorf("netReason = %q", got)
	}
}
