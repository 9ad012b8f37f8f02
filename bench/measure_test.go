package bench

import (
	"encoding/json"
	"testing"
	"time"
)

func TestPercentilesNearestRank(t *testing.T) {
	var r runStats
	for i := 1; i <= 100; i++ {
		r.lat = append(r.lat, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 95: 95 * time.Millisecond, 99: 99 * time.Millisecond} {
		if got := r.pct(p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	one := runStats{lat: []time.Duration{7 * time.Millisecond}}
	if one.pct(50) != 7*time.Millisecond || one.pct(99) != 7*time.Millisecond {
		t.Errorf("a single sample is every percentile")
	}
	if got := median([]float64{3, 1, 2, 10}); got != 2.5 {
		t.Errorf("median = %v, want 2.5", got)
	}
}

func TestAppendJSONStringIsValidJSON(t *testing.T) {
	for _, s := range []string{"", `aspas " e \ barra`, "linha\nnova\ttab\x01", "São Paulo — açaí ✓"} {
		var back string
		if err := json.Unmarshal(appendJSONString(nil, s), &back); err != nil || back != s {
			t.Errorf("%q: got %q, %v", s, back, err)
		}
	}
}

func TestSelect(t *testing.T) {
	all, err := Select(nil)
	if err != nil || len(all) != len(All()) {
		t.Fatalf("Select(nil) = %d scenarios, %v", len(all), err)
	}
	got, err := Select([]string{"concurrent", " extract-json"})
	if err != nil || len(got) != 2 || got[0].Name != "extract-json" {
		t.Errorf("Select keeps All's order: %v, %v", got, err)
	}
	if _, err := Select([]string{"nope"}); err == nil {
		t.Error("an unknown scenario is accepted")
	}
}
