// Package archtest holds the test that keeps dialflow's package dependencies
// pointing inward (SPEC §2, style notes §6): flow and media import no other
// project package, only cmd wires concrete types together.
package archtest
