package rtpio

import "errors"

// ErrNoPort reports that every port of the configured range is taken.
var ErrNoPort = errors.New("rtpio: no free port in range")

// ErrClosed reports use of a closed session.
var ErrClosed = errors.New("rtpio: session closed")
