// Package realestate embeds the demo tenant's data map, so `titular demo`
// runs from any directory without the repository's files.
package realestate

import _ "embed"

// Datamap is examples/realestate/datamap.yaml, the demo CRM's data map.
//
//go:embed datamap.yaml
var Datamap []byte
