package datamap

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decoder walks a yaml.Node tree, collecting problems instead of stopping at
// the first, and records the line of every path it reads.
type decoder struct {
	file  string
	probs Problems
	lines map[string]int
}

func (d *decoder) add(line int, path, msg, fix string) {
	d.probs = append(d.probs, Problem{File: d.file, Path: path, Line: line, Message: msg, Fix: fix})
}

func (d *decoder) addAt(n *yaml.Node, path, msg, fix string) { d.add(n.Line, path, msg, fix) }

// object is a YAML mapping read against a fixed set of keys.
type object struct {
	node *yaml.Node
	path string
	line int                   // where missing keys are reported: the owner's key when known
	keys map[string]*yaml.Node // key nodes, for lines of problems about a key
	vals map[string]*yaml.Node
}

func (o object) get(key string) *yaml.Node { return o.vals[key] }

// child joins a path and a key.
func child(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// pair is one key: value of a mapping, in document order.
type pair struct {
	key   string
	kNode *yaml.Node
	value *yaml.Node
}

// pairs returns the entries of a mapping node in order, reporting a
// non-mapping, non-scalar keys and duplicate keys.
func (d *decoder) pairs(n *yaml.Node, path, fix string) ([]pair, bool) {
	if n.Kind != yaml.MappingNode {
		d.addAt(n, path, "must be a mapping of key: value entries", fix)
		return nil, false
	}
	seen := make(map[string]bool, len(n.Content)/2)
	out := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.addAt(k, path, "a key must be a plain name", "write the key as a single word")
			continue
		}
		if seen[k.Value] {
			d.addAt(k, child(path, k.Value), fmt.Sprintf("duplicate key %q", k.Value), "keep only one entry with this key")
			continue
		}
		seen[k.Value] = true
		out = append(out, pair{key: k.Value, kNode: k, value: v})
	}
	return out, true
}

// object reads a mapping whose keys must come from allowed; unknown keys are
// reported (they are usually typos that would otherwise be ignored silently).
func (d *decoder) object(n *yaml.Node, path string, allowed []string) (object, bool) {
	o := object{node: n, path: path, line: n.Line, keys: map[string]*yaml.Node{}, vals: map[string]*yaml.Node{}}
	ps, ok := d.pairs(n, path, "write it as key: value pairs with keys "+strings.Join(allowed, ", "))
	if !ok {
		return o, false
	}
	for _, p := range ps {
		if !slices.Contains(allowed, p.key) {
			d.addAt(p.kNode, child(path, p.key), fmt.Sprintf("unknown key %q", p.key), choiceFix(p.key, allowed))
			continue
		}
		o.keys[p.key], o.vals[p.key] = p.kNode, p.value
	}
	return o, true
}

// require reports a missing key of o; it returns the value node or nil.
func (d *decoder) require(o object, key, fix string) *yaml.Node {
	v := o.get(key)
	if v == nil {
		d.add(o.line, child(o.path, key), fmt.Sprintf("missing %s", key), fix)
	}
	return v
}

// str reads a non-empty scalar as text; numbers and booleans are accepted as
// their text (a reference like 2024 is fine).
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	d.lines[path] = n.Line
	if n.Kind != yaml.ScalarNode {
		d.addAt(n, path, "must be a single text value", "write one value, not a list or a mapping")
		return "", false
	}
	if n.Tag == "!!null" || strings.TrimSpace(n.Value) == "" {
		d.addAt(n, path, "is empty", "write a value or remove the key")
		return "", false
	}
	return n.Value, true
}

// name reads a table, column, entity or logical field name. These reach SQL
// (backtick-quoted), so only letters, digits and underscores are allowed.
func (d *decoder) name(n *yaml.Node, path, what string) (string, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return "", false
	}
	if !sqlName.MatchString(s) {
		d.addAt(n, path, fmt.Sprintf("%q is not a valid %s name", s, what),
			"use letters, digits and underscores only, starting with a letter or underscore, at most 64 characters")
		return "", false
	}
	return s, true
}

// choice reads a value that must be one of options.
func (d *decoder) choice(n *yaml.Node, path, what string, options []string) (string, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return "", false
	}
	if !slices.Contains(options, s) {
		d.addAt(n, path, fmt.Sprintf("unknown %s %q", what, s), choiceFix(s, options))
		return "", false
	}
	return s, true
}

// integer reads a whole number.
func (d *decoder) integer(n *yaml.Node, path string) (int, bool) {
	d.lines[path] = n.Line
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		if v, err := strconv.ParseInt(n.Value, 0, 32); err == nil {
			return int(v), true
		}
	}
	d.addAt(n, path, "must be a whole number", "write a number such as 5, without quotes")
	return 0, false
}

// list reads a sequence; one scalar is not accepted so `key: id` and
// `key: [id]` cannot be confused with a typo.
func (d *decoder) list(n *yaml.Node, path, fix string) ([]*yaml.Node, bool) {
	d.lines[path] = n.Line
	if n.Kind != yaml.SequenceNode {
		d.addAt(n, path, "must be a list", fix)
		return nil, false
	}
	return n.Content, true
}

// nameList reads a list of distinct names.
func (d *decoder) nameList(n *yaml.Node, path, what, fix string) []string {
	items, ok := d.list(n, path, fix)
	if !ok {
		return nil
	}
	var out []string
	for i, it := range items {
		s, ok := d.name(it, index(path, i), what)
		if !ok {
			continue
		}
		if slices.Contains(out, s) {
			d.addAt(it, index(path, i), fmt.Sprintf("%q is listed twice", s), "remove the repeated entry")
			continue
		}
		out = append(out, s)
	}
	return out
}
