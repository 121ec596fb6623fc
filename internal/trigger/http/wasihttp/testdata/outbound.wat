;; A wasi:http guest (a canonical-ABI core module) that proxies: a request
;; for /<authority> makes GET http://<authority>/ through
;; wasi:http/outgoing-handler and answers with the upstream status, or with
;; 500 + the error-code case when the outbound request fails (515:
;; HTTP-request-denied, 504: destination-IP-prohibited). No body.
;;
;; Flattened signatures and layouts (canonical ABI): error-code's payloads
;; hold u64s, so its alignment is 8 and every result/option around it puts
;; its payload at offset 8 from its discriminant.
(module
  (import "wasi:http/types@0.2.0" "[constructor]fields"
    (func $fields.new (result i32)))
  (import "wasi:http/types@0.2.0" "[method]incoming-request.path-with-query"
    (func $request.path (param i32 i32)))
  (import "wasi:http/types@0.2.0" "[resource-drop]incoming-request"
    (func $request.drop (param i32)))
  (import "wasi:http/types@0.2.0" "[constructor]outgoing-request"
    (func $out.new (param i32) (result i32)))
  ;; set-scheme(self, option<scheme>): option tag, scheme case, string ptr, len.
  (import "wasi:http/types@0.2.0" "[method]outgoing-request.set-scheme"
    (func $out.set-scheme (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[method]outgoing-request.set-authority"
    (func $out.set-authority (param i32 i32 i32 i32) (result i32)))
  ;; handle(request, option<own<request-options>>, retptr).
  (import "wasi:http/outgoing-handler@0.2.0" "handle"
    (func $handle (param i32 i32 i32 i32)))
  (import "wasi:http/types@0.2.0" "[method]future-incoming-response.subscribe"
    (func $future.subscribe (param i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[method]future-incoming-response.get"
    (func $future.get (param i32 i32)))
  (import "wasi:io/poll@0.2.0" "[method]pollable.block"
    (func $pollable.block (param i32)))
  (import "wasi:http/types@0.2.0" "[method]incoming-response.status"
    (func $in.status (param i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[constructor]outgoing-response"
    (func $response.new (param i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[method]outgoing-response.set-status-code"
    (func $response.set-status (param i32 i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[method]outgoing-response.body"
    (func $response.body (param i32 i32)))
  (import "wasi:http/types@0.2.0" "[static]response-outparam.set"
    (func $outparam.set (param i32 i32 i32 i32 i64 i32 i32 i32 i32)))
  (import "wasi:http/types@0.2.0" "[static]outgoing-body.finish"
    (func $body.finish (param i32 i32 i32 i32)))

  (memory (export "memory") 1)
  ;; Return area at 0 (32 bytes, 8-aligned).
  (global $heap (mut i32) (i32.const 1024))

  (func (export "wasi:http/incoming-handler@0.2.0#handle") (param $request i32) (param $outparam i32)
    (local $ptr i32) (local $len i32) (local $out i32) (local $future i32)
    (local $status i32) (local $response i32) (local $body i32)
    ;; path = request.path-with-query(): option<string> (tag 0, ptr 4, len 8).
    (call $request.path (local.get $request) (i32.const 0))
    (if (i32.eqz (i32.load8_u (i32.const 0))) (then unreachable))
    (local.set $ptr (i32.load (i32.const 4)))
    (local.set $len (i32.load (i32.const 8)))
    (call $request.drop (local.get $request))

    ;; out = outgoing-request(fields()); scheme http; authority = path[1:].
    (local.set $out (call $out.new (call $fields.new)))
    (if (call $out.set-scheme (local.get $out) (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0))
      (then unreachable))
    (if (call $out.set-authority (local.get $out) (i32.const 1)
          (i32.add (local.get $ptr) (i32.const 1)) (i32.sub (local.get $len) (i32.const 1)))
      (then unreachable))

    ;; handle(out, none): result<own<future>, error-code> (tag 0, payload 8).
    (call $handle (local.get $out) (i32.const 0) (i32.const 0) (i32.const 0))
    (if (i32.load8_u (i32.const 0))
      (then (local.set $status (i32.add (i32.const 500) (i32.load8_u (i32.const 8)))))
      (else
        (local.set $future (i32.load (i32.const 8)))
        (call $pollable.block (call $future.subscribe (local.get $future)))
        ;; get(): option (tag 0) <result (tag 8) <result (tag 16) <response
        ;; | error-code> (payload 24)>>.
        (call $future.get (local.get $future) (i32.const 0))
        (if (i32.or (i32.eqz (i32.load8_u (i32.const 0))) (i32.load8_u (i32.const 8)))
          (then unreachable))
        (if (i32.load8_u (i32.const 16))
          (then (local.set $status (i32.add (i32.const 500) (i32.load8_u (i32.const 24)))))
          (else (local.set $status (call $in.status (i32.load (i32.const 24))))))))

    ;; Answer with $status and an empty body.
    (local.set $response (call $response.new (call $fields.new)))
    (if (call $response.set-status (local.get $response) (local.get $status)) (then unreachable))
    (call $response.body (local.get $response) (i32.const 0))
    (if (i32.load8_u (i32.const 0)) (then unreachable))
    (local.set $body (i32.load (i32.const 4)))
    (call $outparam.set (local.get $outparam) (i32.const 0) (local.get $response)
      (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    (call $body.finish (local.get $body) (i32.const 0) (i32.const 0) (i32.const 0))
    (if (i32.load8_u (i32.const 0)) (then unreachable)))

  ;; A bump allocator; the host never frees within one instance's life.
  (func (export "cabi_realloc") (param $old i32) (param $oldSize i32) (param $align i32) (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and
      (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
      (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (if (i32.gt_u (global.get $heap) (i32.shl (memory.size) (i32.const 16)))
      (then (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))))
    (local.get $p))
)
