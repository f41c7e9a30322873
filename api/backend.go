package api

import (
	"context"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/flow"
)

// Backend is what the API needs from the store and dialer. *dialer.Dialer
// satisfies it; cmd/dialflow passes it in.
type Backend interface {
	// Submit stores the request (committed before returning) and queues its
	// destinations. The same owner, requestId and body again returns the
	// current status with created false; the same requestId with another body
	// returns dialer.ErrConflict.
	Submit(ctx context.Context, owner string, body []byte, req *flow.Request) (st *dialer.RequestStatus, created bool, err error)
	// Status returns a page of details (offset, limit; limit 0 means 1000).
	// An unknown request, or one of another owner, is dialer.ErrNotFound.
	Status(ctx context.Context, owner, requestID string, offset, limit int) (*dialer.RequestStatus, error)
	// Cancel drops queued destinations and hangs up live calls, then returns
	// the status.
	Cancel(ctx context.Context, owner, requestID string) (*dialer.RequestStatus, error)
	// Trunk reports the slot accounting of the trunk.
	Trunk(ctx context.Context) (dialer.TrunkStatus, error)
	// SetExternalBusy records how many trunk calls other systems hold.
	SetExternalBusy(ctx context.Context, n int) (dialer.TrunkStatus, error)
	// RecordingPath returns the WAV file of a call owned by owner, or
	// dialer.ErrNotFound.
	RecordingPath(ctx context.Context, owner, callID string) (string, error)
	// Ready reports whether the store and dialer are healthy.
	Ready(ctx context.Context) error
}
