// Package bench holds what the load benchmarks (recoverydesk bench) share:
// latency percentiles and the process's peak memory.
package bench
