//go:build race

package main

// raceFlags build the gateway the way the test binary was built.
var raceFlags = []string{"-race"}
