package console

import "net/http"

// propagationRoutes adds webhook deliveries per endpoint and requeue.
func (c *Console) propagationRoutes(m *http.ServeMux) {}
