// Package deps pins the project's mandated modules in go.mod while the packages
// that use them are being written. It is removed once every module is imported
// by real code.
package deps

import (
	_ "github.com/emiago/sipgo"
	_ "github.com/go-audio/audio"
	_ "github.com/go-audio/wav"
	_ "github.com/labstack/echo/v4"
	_ "github.com/labstack/echo/v4/middleware"
	_ "github.com/pion/rtp"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/zaf/g711"
	_ "go.uber.org/goleak"
	_ "modernc.org/sqlite"
)
