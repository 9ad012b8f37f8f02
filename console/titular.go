package console

import "net/http"

// titularRoutes adds a titular's page, searched by identifiers posted in a form.
func (c *Console) titularRoutes(m *http.ServeMux) {}
