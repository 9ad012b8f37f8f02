package console

import "net/http"

// requestRoutes adds the request page: timeline, result, downloads, actions and receipt.
func (c *Console) requestRoutes(m *http.ServeMux) {}
