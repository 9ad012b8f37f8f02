package datamap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Option configures Parse and Load.
type Option func(*options)

type options struct {
	known        func(name string) bool
	check        AnonymizerCheck
	irreversible func(AnonymizerRef) bool
}

// WithAnonymizers sets which anonymizer names a map may use, typically the
// anonymize registry's lookup. The default accepts BuiltinAnonymizers.
func WithAnonymizers(known func(name string) bool) Option {
	return func(o *options) {
		if known != nil {
			o.known = known
		}
	}
}

// Load reads and parses the data map at path. Problems in the document are
// returned as Problems; failing to read the file is returned wrapped.
func Load(path string, opts ...Option) (*Map, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the data map a tenant's config names
	if err != nil {
		return nil, fmt.Errorf("read data map: %w", err)
	}
	return Parse(path, data, opts...)
}

// Parse decodes and statically validates a data map; file names it in
// problems. It returns either a Map or Problems listing everything wrong
// (unknown keys, bad vocabulary, missing tables or keys, parent cycles, entities
// no root reaches, …), each with its path, line and fix.
func Parse(file string, data []byte, opts ...Option) (*Map, error) {
	o := options{known: func(name string) bool { return slices.Contains(BuiltinAnonymizers(), name) }}
	for _, opt := range opts {
		opt(&o)
	}
	d := &decoder{file: file, lines: map[string]int{}}
	root, ok := d.document(data)
	if !ok {
		return nil, d.probs.asError()
	}
	m := &Map{File: file, lines: d.lines, anonCheck: o.check, irreversible: o.irreversible}
	p := parser{decoder: d, known: o.known, check: o.check, broken: map[string]bool{}, brokenMatch: map[string]bool{}}
	p.top(root, m)
	if len(m.Entities) > 0 {
		p.graph(m)
		p.correctables(m)
		p.birthDates(m)
	}
	if err := d.probs.asError(); err != nil {
		return nil, err
	}
	return m, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// document decodes data into its single top-level node.
func (d *decoder) document(data []byte) (root *yaml.Node, ok bool) {
	var doc yaml.Node
	if err := decodeNode(data, &doc); err != nil {
		line, msg := 0, err.Error()
		if sm := yamlLine.FindStringSubmatch(msg); sm != nil {
			line, _ = strconv.Atoi(sm[1])
			msg = msg[len(sm[0]):]
		}
		d.add(line, "", "not valid YAML: "+msg, "fix the YAML syntax (indentation, colons, quotes)")
		return nil, false
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		d.add(0, "", "the file is empty", "start with version: 1, subject and entities")
		return nil, false
	}
	if !d.noAliases(&doc) {
		return nil, false
	}
	return doc.Content[0], true
}

// decodeNode runs the YAML parser, turning a parser panic into an error: a
// data map is operator input, and a malformed file must not crash titular.
func decodeNode(data []byte, doc *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: parser failed: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(doc); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return fmt.Errorf("yaml: line %d: a second document starts here; a data map is one document", extra.Line)
	} else if !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// noAliases rejects anchors and aliases. They make one value appear in several
// places, which hides mistakes in a small document and lets a tiny file expand
// into a huge one.
func (d *decoder) noAliases(n *yaml.Node) bool {
	ok := true
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.AliasNode || n.Anchor != "" {
			d.addAt(n, "", "YAML anchors and aliases (& and *) are not supported", "write the value out in full")
			ok = false
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return ok
}
