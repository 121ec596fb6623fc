//go:build wasip1

package wisphttp

// The imports this package binds, lowered by the canonical ABI: handles are
// i32, strings and lists are (ptr, len), results that flatten to more than
// one value are written to a return area whose address is the last
// parameter. Return areas live in the cabi arena.

//go:wasmimport wasi:http/types@0.2.0 [method]incoming-request.method
func incomingRequestMethod(self, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [method]incoming-request.path-with-query
func incomingRequestPathWithQuery(self, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [method]incoming-request.scheme
func incomingRequestScheme(self, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [method]incoming-request.authority
func incomingRequestAuthority(self, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [method]incoming-request.headers
func incomingRequestHeaders(self uint32) uint32

//go:wasmimport wasi:http/types@0.2.0 [method]incoming-request.consume
func incomingRequestConsume(self, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [resource-drop]incoming-request
func dropIncomingRequest(self uint32)

//go:wasmimport wasi:http/types@0.2.0 [method]incoming-body.stream
func incomingBodyStream(self, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [resource-drop]incoming-body
func dropIncomingBody(self uint32)

//go:wasmimport wasi:http/types@0.2.0 [constructor]fields
func newFields() uint32

//go:wasmimport wasi:http/types@0.2.0 [method]fields.entries
func fieldsEntries(self, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [method]fields.append
func fieldsAppend(self uint32, name, value string, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [resource-drop]fields
func dropFields(self uint32)

//go:wasmimport wasi:http/types@0.2.0 [constructor]outgoing-response
func newOutgoingResponse(headers uint32) uint32

//go:wasmimport wasi:http/types@0.2.0 [method]outgoing-response.set-status-code
func outgoingResponseSetStatusCode(self, status uint32) uint32

//go:wasmimport wasi:http/types@0.2.0 [method]outgoing-response.body
func outgoingResponseBody(self, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [resource-drop]outgoing-response
func dropOutgoingResponse(self uint32)

//go:wasmimport wasi:http/types@0.2.0 [resource-drop]outgoing-body
func dropOutgoingBody(self uint32)

//go:wasmimport wasi:http/types@0.2.0 [method]outgoing-body.write
func outgoingBodyWrite(self, ret uint32)

// outgoingBodyFinish takes option<trailers> flattened as (is-some, handle).
//
//go:wasmimport wasi:http/types@0.2.0 [static]outgoing-body.finish
func outgoingBodyFinish(self, hasTrailers, trailers, ret uint32)

// responseOutparamSet takes result<outgoing-response, error-code>
// flattened: the discriminant, then the join of the outgoing-response
// handle and error-code's flattening (i32 case, then i32, i64, i32 × 4 of
// the widest payloads).
//
//go:wasmimport wasi:http/types@0.2.0 [static]response-outparam.set
func responseOutparamSet(param, isErr, p0, p1 uint32, p2 uint64, p3, p4, p5, p6 uint32)

//go:wasmimport wasi:io/streams@0.2.0 [method]input-stream.blocking-read
func inputStreamBlockingRead(self uint32, n uint64, ret uint32)

//go:wasmimport wasi:io/streams@0.2.0 [resource-drop]input-stream
func dropInputStream(self uint32)

//go:wasmimport wasi:io/streams@0.2.0 [method]output-stream.blocking-write-and-flush
func outputStreamBlockingWriteAndFlush(self uint32, buf *byte, n uint32, ret uint32)

//go:wasmimport wasi:io/streams@0.2.0 [resource-drop]output-stream
func dropOutputStream(self uint32)

//go:wasmimport wasi:io/error@0.2.0 [method]error.to-debug-string
func errorToDebugString(self, ret uint32)

//go:wasmimport wasi:io/error@0.2.0 [resource-drop]error
func dropError(self uint32)

//go:wasmimport wasi:cli/environment@0.2.0 get-environment
func getEnvironment(ret uint32)

//go:wasmimport wasi:cli/stderr@0.2.0 get-stderr
func getStderr() uint32
