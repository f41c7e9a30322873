package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dialflow/dialflow/dialer"
	"github.com/dialflow/dialflow/internal/metrics"
)

var _ dialer.Observer = (*metrics.Metrics)(nil)

func TestHandlerExposesDialerMetrics(t *testing.T) {
	m := metrics.New()
	m.Trunk(94, 3, 1)
	m.CallEnded(dialer.OutcomeBusy)
	m.CallEnded(dialer.OutcomeBusy)
	m.CallEnded(dialer.OutcomeAnswered)
	m.StepDone("gather", 1500*time.Millisecond)

	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	for _, want := range []string{
		"dialflow_queue_depth 94",
		"dialflow_active_calls 3",
		"dialflow_free_slots 1",
		`dialflow_calls_total{outcome="busy"} 2`,
		`dialflow_calls_total{outcome="answered"} 1`,
		`dialflow_step_duration_seconds_bucket{step="gather",le="2"} 1`,
		`dialflow_step_duration_seconds_bucket{step="gather",le="1"} 0`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics output lacks %q", want)
		}
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("content type %q", ct)
	}
}

func TestRegistriesAreIndependent(t *testing.T) {
	a, b := metrics.New(), metrics.New()
	a.Trunk(5, 0, 0)
	rec := httptest.NewRecorder()
	b.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if strings.Contains(rec.Body.String(), "dialflow_queue_depth 5") {
		t.Fatal("second Metrics sees the first one's values")
	}
}
