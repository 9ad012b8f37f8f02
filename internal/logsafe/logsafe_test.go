package logsafe

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

func TestErrorQuotesNoData(t *testing.T) {
	_, fileErr := os.Open("/nonexistent/portal-52998224725.pem")
	for name, c := range map[string]struct {
		err        error
		want, leak string
	}{
		"mysql": {fmt.Errorf("correct: %w", &mysql.MySQLError{Number: 1062, Message: "Duplicate entry '529.982.247-25' for key 'uq_cpf'"}),
			"database error 1062", "529"},
		"file": {fmt.Errorf("token keys: %w", fileErr), "open: no such file or directory", "52998224725"},
		"url": {&url.Error{Op: "Get", URL: "https://idp.example/keys?user=a@b.example", Err: errors.New("connection refused")},
			"Get: connection refused", "a@b.example"},
		"other": {errors.New("plain"), "plain", "\x00"},
	} {
		got := Error(c.err)
		if got != c.want || strings.Contains(got, c.leak) {
			t.Errorf("%s: %q, want %q", name, got, c.want)
		}
	}
}
