package loadrun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/dialflow/dialflow/flow"
)

// client talks to dialflow's HTTP API.
type client struct {
	base string
	key  string
}

func (c client) do(ctx context.Context, method, path string, body []byte) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("x-credential-api-key", c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return b, res.StatusCode, err
}

func (c client) waitHealthy(ctx context.Context) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, code, err := c.do(ctx, http.MethodGet, "/healthz", nil)
		if err == nil && code == http.StatusOK {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("GET /healthz: %d %v", code, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c client) post(ctx context.Context, body []byte) error {
	b, code, err := c.do(ctx, http.MethodPost, "/call", body)
	if err != nil {
		return err
	}
	if code != http.StatusOK && code != http.StatusAccepted && code != http.StatusCreated {
		return fmt.Errorf("POST /call: %d %s", code, bytes.TrimSpace(b))
	}
	return nil
}

// statusBody is the part of GET /status the run reads.
type statusBody struct {
	Details []struct {
		Status        string            `json:"status"`
		CallFlowSteps []flow.StepResult `json:"callFlowSteps"`
	} `json:"details"`
}

// status reads every destination of the request, a page at a time.
func (c client) status(ctx context.Context, id string) (statusBody, error) {
	var all statusBody
	const page = 1000
	for off := 0; ; off += page {
		b, code, err := c.do(ctx, http.MethodGet, fmt.Sprintf("/status/%s?offset=%d&limit=%d", id, off, page), nil)
		if err != nil {
			return all, err
		}
		if code != http.StatusOK {
			return all, fmt.Errorf("GET /status/%s: %d %s", id, code, bytes.TrimSpace(b))
		}
		var st statusBody
		if err := json.Unmarshal(b, &st); err != nil {
			return all, err
		}
		all.Details = append(all.Details, st.Details...)
		if len(st.Details) < page {
			return all, nil
		}
	}
}

// request builds the load request: n destinations, each hearing prompt
// in a gather that waits for one key; key 1 thanks the caller, then the
// call hangs up.
func request(id string, n int, prompt string, record bool) []byte {
	type msg struct {
		Msg string `json:"msg"`
	}
	type dest struct {
		Phone  string `json:"phone"`
		Caller string `json:"caller"`
	}
	type step map[string]any
	ds := make([]dest, n)
	for i := range ds {
		ds[i] = dest{Phone: fmt.Sprintf("+1555%07d", i+1), Caller: "+15550000000"}
	}
	thanks := step{"name": "play", "message": msg{"Thank you. Goodbye."}}
	gather := step{"name": "gather", "message": msg{prompt}, "numDigits": 1, "timeout": 10, "maxRetries": 0,
		"branches": []step{{"digit": "1", "callFlow": step{"steps": []step{thanks}}}}}
	body := step{"requestId": id, "destinations": ds, "enableCallRecording": record,
		"callFlow": step{"steps": []step{gather, {"name": "hangup"}}}}
	b, _ := json.Marshal(body)
	return b
}
