// Package realestate embeds the demo tenant's data map and purposes, so
// `titular demo` runs from any directory without the repository's files.
package realestate

import _ "embed"

// Datamap is examples/realestate/datamap.yaml, the demo CRM's data map.
//
//go:embed datamap.yaml
var Datamap []byte

// Purposes is examples/realestate/purposes.yaml, the demo tenant's purpose
// catalog with the terms in force.
//
//go:embed purposes.yaml
var Purposes []byte
