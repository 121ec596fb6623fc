// Package factorfuzz holds only tests: they call every host function of
// every factor `wisp up` composes with random values of the function's WIT
// parameter types and check that no guest input can panic the host, that
// results lower as the WIT result type says, and that failures are WIT
// error values rather than traps. See hostfuncs_test.go.
package factorfuzz
