package main

import (
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
)

func parseServe(t *testing.T, args []string, env map[string]string) (serveConfig, error) {
	t.Helper()
	c := defaultServeConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := applyEnv(fs, func(k string) string { return env[k] }); err != nil {
		return c, err
	}
	return c, c.validate()
}

func TestServeConfigFlagsEnvAndDemo(t *testing.T) {
	c, err := parseServe(t, []string{"--demo"}, nil)
	if err != nil || !reflect.DeepEqual(c.APIKeys, []string{"demo"}) || c.Capacity != 6 || c.HTTP != "127.0.0.1:8080" {
		t.Fatalf("demo defaults: %+v %v", c, err)
	}
	c, err = parseServe(t, []string{"--api-key", "a", "--api-key", "b,c", "--capacity", "3"},
		map[string]string{"DIALFLOW_TRUNK": "sip:pbx:5060", "DIALFLOW_CAPACITY": "9", "DIALFLOW_RTP_PORTS": "30000-30100"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.APIKeys, []string{"a", "b", "c"}) || c.Capacity != 3 || c.Trunk != "sip:pbx:5060" || c.RTPPorts != "30000-30100" {
		t.Fatalf("flags/env: %+v", c)
	}
	_, err = parseServe(t, []string{"--capacity", "0", "--rtp-ports", "5-3", "--public-ip", "nope", "--http", "x"}, nil)
	for _, w := range []string{"--capacity", "--rtp-ports", "--public-ip", "--http", "--trunk is required", "--api-key is required"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v lacks %q", err, w)
		}
	}
	if _, err := parseServe(t, nil, map[string]string{"DIALFLOW_CAPACITY": "many"}); err == nil || !strings.Contains(err.Error(), "DIALFLOW_CAPACITY") {
		t.Errorf("bad env not named: %v", err)
	}
}
