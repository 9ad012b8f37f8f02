package service

import (
	"github.com/titular/titular/crm"
	"github.com/titular/titular/export"
)

// NewExportSink returns the sink the EXTRACT worker feeds the data-map walk
// into: store values converted to export values, entity by entity, into w.
// The benchmark (titular bench) times this exact path; the caller still owns
// w's Begin and Close.
func NewExportSink(w export.Writer) crm.Sink { return &exportSink{w: w} }
