//go:build wasip1

package wasi

// The imports this package binds, lowered by the canonical ABI: handles are
// i32, strings and lists are (ptr, len), results that flatten to more than
// one value are written to a return area whose address is the last
// parameter. Return areas live in the cabi arena.

//go:wasmimport wasi:http/types@0.2.0 [method]incoming-request.method
func IncomingRequestMethod(self, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [method]incoming-request.path-with-query
func IncomingRequestPathWithQuery(self, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [method]incoming-request.scheme
func IncomingRequestScheme(self, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [method]incoming-request.authority
func IncomingRequestAuthority(self, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [method]incoming-request.headers
func IncomingRequestHeaders(self uint32) uint32

//go:wasmimport wasi:http/types@0.2.0 [method]incoming-request.consume
func IncomingRequestConsume(self, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [resource-drop]incoming-request
func DropIncomingRequest(self uint32)

//go:wasmimport wasi:http/types@0.2.0 [method]incoming-body.stream
func IncomingBodyStream(self, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [resource-drop]incoming-body
func DropIncomingBody(self uint32)

//go:wasmimport wasi:http/types@0.2.0 [constructor]fields
func NewFieldsResource() uint32

//go:wasmimport wasi:http/types@0.2.0 [method]fields.entries
func FieldsEntries(self, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [method]fields.append
func FieldsAppend(self uint32, name, value string, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [resource-drop]fields
func DropFields(self uint32)

//go:wasmimport wasi:http/types@0.2.0 [constructor]outgoing-response
func NewOutgoingResponse(headers uint32) uint32

//go:wasmimport wasi:http/types@0.2.0 [method]outgoing-response.set-status-code
func OutgoingResponseSetStatusCode(self, status uint32) uint32

//go:wasmimport wasi:http/types@0.2.0 [method]outgoing-response.body
func OutgoingResponseBody(self, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [resource-drop]outgoing-response
func DropOutgoingResponse(self uint32)

//go:wasmimport wasi:http/types@0.2.0 [resource-drop]outgoing-body
func DropOutgoingBody(self uint32)

//go:wasmimport wasi:http/types@0.2.0 [method]outgoing-body.write
func OutgoingBodyWrite(self, ret uint32)

// OutgoingBodyFinish takes option<trailers> flattened as (is-some, handle).
//
//go:wasmimport wasi:http/types@0.2.0 [static]outgoing-body.finish
func OutgoingBodyFinish(self, hasTrailers, trailers, ret uint32)

// ResponseOutparamSet takes result<outgoing-response, error-code>
// flattened: the discriminant, then the join of the outgoing-response
// handle and error-code's flattening (i32 case, then i32, i64, i32 × 4 of
// the widest payloads).
//
//go:wasmimport wasi:http/types@0.2.0 [static]response-outparam.set
func ResponseOutparamSet(param, isErr, p0, p1 uint32, p2 uint64, p3, p4, p5, p6 uint32)

//go:wasmimport wasi:io/streams@0.2.0 [method]input-stream.blocking-read
func InputStreamBlockingRead(self uint32, n uint64, ret uint32)

//go:wasmimport wasi:io/streams@0.2.0 [resource-drop]input-stream
func DropInputStream(self uint32)

//go:wasmimport wasi:io/streams@0.2.0 [method]output-stream.blocking-write-and-flush
func OutputStreamBlockingWriteAndFlush(self uint32, buf *byte, n uint32, ret uint32)

//go:wasmimport wasi:io/streams@0.2.0 [resource-drop]output-stream
func DropOutputStream(self uint32)

//go:wasmimport wasi:io/error@0.2.0 [method]error.to-debug-string
func ErrorToDebugString(self, ret uint32)

//go:wasmimport wasi:io/error@0.2.0 [resource-drop]error
func DropError(self uint32)

//go:wasmimport wasi:cli/environment@0.2.0 get-environment
func GetEnvironment(ret uint32)

//go:wasmimport wasi:cli/stderr@0.2.0 get-stderr
func GetStderr() uint32

// Outbound requests (wasi:http/outgoing-handler) and the types they use.

//go:wasmimport wasi:http/types@0.2.0 [constructor]outgoing-request
func NewOutgoingRequest(headers uint32) uint32

// OutgoingRequestSetMethod takes method flattened as (case, string ptr,
// string len); returns result<_, _>'s discriminant.
//
//go:wasmimport wasi:http/types@0.2.0 [method]outgoing-request.set-method
func OutgoingRequestSetMethod(self, method, p, n uint32) uint32

//go:wasmimport wasi:http/types@0.2.0 [method]outgoing-request.set-path-with-query
func OutgoingRequestSetPathWithQuery(self, isSome, p, n uint32) uint32

// OutgoingRequestSetScheme takes option<scheme> flattened as (is-some,
// case, string ptr, string len).
//
//go:wasmimport wasi:http/types@0.2.0 [method]outgoing-request.set-scheme
func OutgoingRequestSetScheme(self, isSome, scheme, p, n uint32) uint32

//go:wasmimport wasi:http/types@0.2.0 [method]outgoing-request.set-authority
func OutgoingRequestSetAuthority(self, isSome, p, n uint32) uint32

//go:wasmimport wasi:http/types@0.2.0 [method]outgoing-request.body
func OutgoingRequestBody(self, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [resource-drop]outgoing-request
func DropOutgoingRequest(self uint32)

// OutgoingHandlerHandle takes option<request-options> as (is-some,
// handle); the result<future-incoming-response, error-code> goes to ret
// (8-aligned, 40 bytes).
//
//go:wasmimport wasi:http/outgoing-handler@0.2.0 handle
func OutgoingHandlerHandle(request, hasOptions, options, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [method]future-incoming-response.subscribe
func FutureIncomingResponseSubscribe(self uint32) uint32

// FutureIncomingResponseGet writes
// option<result<result<incoming-response, error-code>>> to ret (8-aligned,
// 56 bytes).
//
//go:wasmimport wasi:http/types@0.2.0 [method]future-incoming-response.get
func FutureIncomingResponseGet(self, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [resource-drop]future-incoming-response
func DropFutureIncomingResponse(self uint32)

//go:wasmimport wasi:http/types@0.2.0 [method]incoming-response.status
func IncomingResponseStatus(self uint32) uint32

//go:wasmimport wasi:http/types@0.2.0 [method]incoming-response.headers
func IncomingResponseHeaders(self uint32) uint32

//go:wasmimport wasi:http/types@0.2.0 [method]incoming-response.consume
func IncomingResponseConsume(self, ret uint32)

//go:wasmimport wasi:http/types@0.2.0 [resource-drop]incoming-response
func DropIncomingResponse(self uint32)

//go:wasmimport wasi:io/poll@0.2.0 [method]pollable.block
func PollableBlock(self uint32)

//go:wasmimport wasi:io/poll@0.2.0 [resource-drop]pollable
func DropPollable(self uint32)

//go:wasmimport wasi:http/types@0.2.0 [constructor]request-options
func NewRequestOptions() uint32

//go:wasmimport wasi:http/types@0.2.0 [method]request-options.set-connect-timeout
func RequestOptionsSetConnectTimeout(self, isSome uint32, d uint64) uint32

//go:wasmimport wasi:http/types@0.2.0 [method]request-options.set-first-byte-timeout
func RequestOptionsSetFirstByteTimeout(self, isSome uint32, d uint64) uint32

//go:wasmimport wasi:http/types@0.2.0 [method]request-options.set-between-bytes-timeout
func RequestOptionsSetBetweenBytesTimeout(self, isSome uint32, d uint64) uint32

// Non-blocking stream operations and polling, for the HTTP client's
// full-duplex bodies.

//go:wasmimport wasi:io/streams@0.2.0 [method]input-stream.read
func InputStreamRead(self uint32, n uint64, ret uint32)

//go:wasmimport wasi:io/streams@0.2.0 [method]input-stream.subscribe
func InputStreamSubscribe(self uint32) uint32

// OutputStreamCheckWrite writes result<u64, stream-error> to ret
// (8-aligned, 16 bytes; the error at ret+8).
//
//go:wasmimport wasi:io/streams@0.2.0 [method]output-stream.check-write
func OutputStreamCheckWrite(self, ret uint32)

//go:wasmimport wasi:io/streams@0.2.0 [method]output-stream.write
func OutputStreamWrite(self uint32, buf *byte, n uint32, ret uint32)

//go:wasmimport wasi:io/streams@0.2.0 [method]output-stream.flush
func OutputStreamFlush(self, ret uint32)

//go:wasmimport wasi:io/streams@0.2.0 [method]output-stream.subscribe
func OutputStreamSubscribe(self uint32) uint32

//go:wasmimport wasi:io/poll@0.2.0 [method]pollable.ready
func PollableReady(self uint32) uint32

//go:wasmimport wasi:io/poll@0.2.0 poll
func Poll(list, n, ret uint32)
