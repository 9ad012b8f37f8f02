// Package brtime is the civil time titular shows and counts in: Brasília's
// (America/Sao_Paulo), where the titulares, the DPO and the ANPD read
// dates and deadlines.
package brtime

import (
	"sync"
	"time"
)

// Location is America/Sao_Paulo from the host's zone database, or, on a
// host without one, a fixed UTC-3: Brazil has had no daylight saving since
// 2019 (Decreto 9.772/2019), so the two agree on every date titular
// handles now. Loaded once.
var Location = sync.OnceValue(func() *time.Location {
	if loc, err := time.LoadLocation("America/Sao_Paulo"); err == nil {
		return loc
	}
	return time.FixedZone("-03", -3*60*60)
})
