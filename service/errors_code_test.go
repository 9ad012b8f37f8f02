package service

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/titular/titular/brdoc"
	"github.com/titular/titular/store"
	"github.com/titular/titular/tenant"
)

// TestCode: an in-process caller reads the service's errors with the codes
// the API answers for them, wrapped or not.
func TestCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want codes.Code
	}{
		{nil, codes.OK},
		{fmt.Errorf("list: %w", store.ErrBadPageToken), codes.InvalidArgument},
		{brdoc.ErrInvalid, codes.InvalidArgument},
		{store.ErrNotFound, codes.NotFound},
		{tenant.ErrUnknown, codes.NotFound},
		{store.ErrExpired, codes.FailedPrecondition},
		{errorf(codes.PermissionDenied, "ROLE_NOT_ALLOWED", "no"), codes.PermissionDenied},
		{errors.New("a database said something"), codes.Internal},
	} {
		if got := Code(tc.err); got != tc.want {
			t.Errorf("Code(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}
