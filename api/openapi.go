// Package api holds titular's generated contract (api/lgpd/v1, never edited
// by hand) and the published documents: the OpenAPI file and the export
// JSON Schema.
package api

import _ "embed"

// OpenAPI is the OpenAPI (Swagger 2.0) document generated from proto/.
//
//go:embed lgpd/v1/titular.swagger.json
var OpenAPI []byte
