// Package metrics holds dialflow's Prometheus metrics on a registry of its own
// (no global state) and serves them in the Prometheus text format.
package metrics
