package console

import "net/http"

// recordRoutes adds the record of processing (Art. 37) and the ledger's state.
func (c *Console) recordRoutes(m *http.ServeMux) {}
