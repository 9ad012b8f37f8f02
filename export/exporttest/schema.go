// Package exporttest checks documents against the published JSON Schema of
// the export (api/export/v1/extract.schema.json), for the tests of the
// writers and of the services that produce exports. It implements the
// subset of JSON Schema 2020-12 the schema uses, so no validator module is
// needed.
package exporttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// schemaPath is the schema, relative to the repository root.
const schemaPath = "api/export/v1/extract.schema.json"

// Checker validates a document against the subset of JSON Schema
// 2020-12 the export schema uses: $ref to $defs, type, const, required,
// properties, additionalProperties, items, oneOf, minimum, minItems,
// uniqueItems and the date-time and date formats.
type Checker struct {
	root map[string]any
}

// Load reads the schema from the repository (found from this file's own
// path, so any package's tests can call it) or fails t.
func Load(t testing.TB) *Checker {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(here), "..", "..", filepath.FromSlash(schemaPath)))
	if err != nil {
		t.Fatalf("reading schema: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		t.Fatalf("decoding schema: %v", err)
	}
	return &Checker{root: root}
}

func (c *Checker) check(schema map[string]any, v any, path string) []string {
	var errs []string
	fail := func(format string, args ...any) {
		errs = append(errs, path+": "+fmt.Sprintf(format, args...))
	}
	if ref, ok := schema["$ref"].(string); ok {
		target, found := c.resolve(ref)
		if !found {
			fail("unresolved $ref %s", ref)
			return errs
		}
		errs = append(errs, c.check(target, v, path)...)
	}
	if typ, ok := schema["type"]; ok && !hasType(typ, v) {
		fail("type %T does not match %v", v, typ)
		return errs
	}
	if want, ok := schema["const"]; ok && fmt.Sprint(want) != fmt.Sprint(v) {
		fail("want const %v, got %v", want, v)
	}
	if alts, ok := schema["oneOf"].([]any); ok {
		matched := 0
		for _, alt := range alts {
			if len(c.check(alt.(map[string]any), v, path)) == 0 {
				matched++
			}
		}
		if matched != 1 {
			fail("matches %d of oneOf, want exactly 1", matched)
		}
	}
	if minimum, ok := schema["minimum"].(json.Number); ok {
		if n, isNum := v.(json.Number); isNum {
			lo, _ := minimum.Float64()
			if f, _ := n.Float64(); f < lo {
				fail("%v below minimum %v", n, minimum)
			}
		}
	}
	if format, ok := schema["format"].(string); ok {
		if s, isStr := v.(string); isStr {
			layout := map[string]string{"date-time": time.RFC3339Nano, "date": time.DateOnly}[format]
			if _, err := time.Parse(layout, s); layout != "" && err != nil {
				fail("%q is not a %s", s, format)
			}
		}
	}
	switch v := v.(type) {
	case map[string]any:
		errs = append(errs, c.checkObject(schema, v, path)...)
	case []any:
		if minItems, ok := schema["minItems"].(json.Number); ok {
			if n, _ := minItems.Int64(); int64(len(v)) < n {
				fail("%d items, want at least %d", len(v), n)
			}
		}
		if unique, _ := schema["uniqueItems"].(bool); unique {
			seen := map[string]bool{}
			for _, item := range v {
				key := fmt.Sprint(item)
				if seen[key] {
					fail("duplicate item %v", item)
				}
				seen[key] = true
			}
		}
		if items, ok := schema["items"].(map[string]any); ok {
			for i, item := range v {
				errs = append(errs, c.check(items, item, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return errs
}

func (c *Checker) checkObject(schema map[string]any, obj map[string]any, path string) []string {
	var errs []string
	required, _ := schema["required"].([]any)
	for _, k := range required {
		if _, ok := obj[k.(string)]; !ok {
			errs = append(errs, fmt.Sprintf("%s: missing required %q", path, k))
		}
	}
	props, _ := schema["properties"].(map[string]any)
	for k, val := range obj {
		if p, ok := props[k].(map[string]any); ok {
			errs = append(errs, c.check(p, val, path+"."+k)...)
			continue
		}
		switch extra := schema["additionalProperties"].(type) {
		case bool:
			if !extra {
				errs = append(errs, fmt.Sprintf("%s: unexpected key %q", path, k))
			}
		case map[string]any:
			errs = append(errs, c.check(extra, val, path+"."+k)...)
		}
	}
	return errs
}

func (c *Checker) resolve(ref string) (map[string]any, bool) {
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	if !ok {
		return nil, false
	}
	defs, _ := c.root["$defs"].(map[string]any)
	target, ok := defs[name].(map[string]any)
	return target, ok
}

func hasType(typ, v any) bool {
	if list, ok := typ.([]any); ok {
		return slices.ContainsFunc(list, func(t any) bool { return hasType(t, v) })
	}
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		return ok && !strings.ContainsAny(n.String(), ".eE")
	}
	return false
}

// Root is the schema document itself.
func (c *Checker) Root() map[string]any { return c.root }

// Check returns why doc (decoded with json.Decoder.UseNumber) does not fit
// the schema, one line per problem; none when it does.
func (c *Checker) Check(doc any) []string { return c.check(c.root, doc, "$") }

// Validate decodes raw and fails t with every problem the schema finds.
func Validate(t testing.TB, raw []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("export is not JSON: %v", err)
	}
	for _, e := range Load(t).Check(doc) {
		t.Errorf("export does not fit the schema: %s", e)
	}
}
