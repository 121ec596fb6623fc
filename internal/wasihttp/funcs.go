package wasihttp

import (
	"context"
	"errors"
	"fmt"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
)

// This file binds the resources' Go methods to the WIT functions: it
// converts arguments and results between cabi's Go representation and Go
// types. A wrong argument type is host misuse or a linker bug, so it traps.

// arg returns args[i] as a T.
func arg[T any](args []any, i int) (T, error) {
	var zero T
	if i >= len(args) {
		return zero, fmt.Errorf("wasihttp: missing argument %d", i)
	}
	v, ok := args[i].(T)
	if !ok {
		return zero, fmt.Errorf("wasihttp: argument %d is %T, want %T", i, args[i], zero)
	}
	return v, nil
}

// self adapts a function of a resource's method (args[0] is the resource)
// with one result.
func self[R any](f func(r R, args []any) (any, error)) component.HostFunc {
	return func(_ context.Context, _ *component.Call, args []any) ([]any, error) {
		r, err := arg[R](args, 0)
		if err != nil {
			return nil, err
		}
		v, err := f(r, args[1:])
		if err != nil {
			return nil, err
		}
		return []any{v}, nil
	}
}

// unit is the result value of `result` (no payloads) and
// result<_, header-error>.
func unit(ok bool) cabi.Result {
	if ok {
		return cabi.Ok(nil)
	}
	return cabi.Err(nil)
}

func headerResult(errCase uint32, ok bool) cabi.Result {
	if ok {
		return cabi.Ok(nil)
	}
	return cabi.Err(cabi.Variant{Case: errCase})
}

func byteLists(vals [][]byte) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v
	}
	return out
}

func optString(s *string) cabi.Option {
	if s == nil {
		return cabi.None
	}
	return cabi.Some(*s)
}

// optStringArg reads an option<string> argument.
func optStringArg(args []any, i int) (*string, error) {
	o, err := arg[cabi.Option](args, i)
	if err != nil || !o.Some {
		return nil, err
	}
	s, ok := o.Value.(string)
	if !ok {
		return nil, fmt.Errorf("wasihttp: option payload is %T, want string", o.Value)
	}
	return &s, nil
}

func optDurationArg(args []any, i int) (*uint64, error) {
	o, err := arg[cabi.Option](args, i)
	if err != nil || !o.Some {
		return nil, err
	}
	d, ok := o.Value.(uint64)
	if !ok {
		return nil, fmt.Errorf("wasihttp: option payload is %T, want u64", o.Value)
	}
	return &d, nil
}

func typesFuncs() map[string]component.HostFunc {
	return map[string]component.HostFunc{
		"http-error-code": func(_ context.Context, _ *component.Call, args []any) ([]any, error) {
			if len(args) != 1 {
				return nil, errors.New("wasihttp: http-error-code takes one argument")
			}
			return []any{httpErrorCode(args[0])}, nil
		},

		// fields
		"[constructor]fields": func(context.Context, *component.Call, []any) ([]any, error) {
			return []any{NewFields()}, nil
		},
		"[static]fields.from-list": func(_ context.Context, _ *component.Call, args []any) ([]any, error) {
			list, err := arg[[]any](args, 0)
			if err != nil {
				return nil, err
			}
			entries := make([]field, len(list))
			for i, e := range list {
				t, ok := e.([]any)
				if !ok || len(t) != 2 {
					return nil, fmt.Errorf("wasihttp: from-list entry is %T", e)
				}
				name, ok1 := t[0].(string)
				value, ok2 := t[1].([]byte)
				if !ok1 || !ok2 {
					return nil, fmt.Errorf("wasihttp: from-list entry is (%T, %T)", t[0], t[1])
				}
				entries[i] = field{name: name, value: value}
			}
			f, errCase, ok := fieldsFromList(entries)
			if !ok {
				return []any{cabi.Err(cabi.Variant{Case: errCase})}, nil
			}
			return []any{cabi.Ok(f)}, nil
		},
		"[method]fields.get": self(func(f *Fields, args []any) (any, error) {
			name, err := arg[string](args, 0)
			return byteLists(f.Get(name)), err
		}),
		"[method]fields.has": self(func(f *Fields, args []any) (any, error) {
			name, err := arg[string](args, 0)
			return f.Has(name), err
		}),
		"[method]fields.set": self(func(f *Fields, args []any) (any, error) {
			name, err := arg[string](args, 0)
			if err != nil {
				return nil, err
			}
			list, err := arg[[]any](args, 1)
			if err != nil {
				return nil, err
			}
			vals := make([][]byte, len(list))
			for i, v := range list {
				b, ok := v.([]byte)
				if !ok {
					return nil, fmt.Errorf("wasihttp: field value is %T", v)
				}
				vals[i] = b
			}
			return headerResult(f.Set(name, vals)), nil
		}),
		"[method]fields.delete": self(func(f *Fields, args []any) (any, error) {
			name, err := arg[string](args, 0)
			if err != nil {
				return nil, err
			}
			return headerResult(f.Delete(name)), nil
		}),
		"[method]fields.append": self(func(f *Fields, args []any) (any, error) {
			name, err := arg[string](args, 0)
			if err != nil {
				return nil, err
			}
			value, err := arg[[]byte](args, 1)
			if err != nil {
				return nil, err
			}
			return headerResult(f.Append(name, value)), nil
		}),
		"[method]fields.entries": self(func(f *Fields, _ []any) (any, error) {
			es := f.Entries()
			out := make([]any, len(es))
			for i, e := range es {
				out[i] = []any{e.name, e.value}
			}
			return out, nil
		}),
		"[method]fields.clone": self(func(f *Fields, _ []any) (any, error) {
			return f.Clone(), nil
		}),

		// incoming-request
		"[method]incoming-request.method": self(func(r *IncomingRequest, _ []any) (any, error) {
			return methodVariant(r.method), nil
		}),
		"[method]incoming-request.path-with-query": self(func(r *IncomingRequest, _ []any) (any, error) {
			return cabi.Some(r.pathWithQuery), nil
		}),
		"[method]incoming-request.scheme": self(func(r *IncomingRequest, _ []any) (any, error) {
			return cabi.Some(schemeVariant(r.scheme)), nil
		}),
		"[method]incoming-request.authority": self(func(r *IncomingRequest, _ []any) (any, error) {
			return cabi.Some(r.authority), nil
		}),
		"[method]incoming-request.headers": self(func(r *IncomingRequest, _ []any) (any, error) {
			return r.headers.view(), nil
		}),
		"[method]incoming-request.consume": self(func(r *IncomingRequest, _ []any) (any, error) {
			b, ok := r.consume()
			if !ok {
				return cabi.Err(nil), nil
			}
			return cabi.Ok(b), nil
		}),

		// outgoing-request
		"[constructor]outgoing-request": func(_ context.Context, _ *component.Call, args []any) ([]any, error) {
			h, err := arg[*Fields](args, 0)
			if err != nil {
				return nil, err
			}
			return []any{newOutgoingRequest(h)}, nil
		},
		"[method]outgoing-request.body": self(func(r *OutgoingRequest, _ []any) (any, error) {
			b, ok := r.takeBody()
			if !ok {
				return cabi.Err(nil), nil
			}
			return cabi.Ok(b), nil
		}),
		"[method]outgoing-request.method": self(func(r *OutgoingRequest, _ []any) (any, error) {
			return r.method, nil
		}),
		"[method]outgoing-request.set-method": self(func(r *OutgoingRequest, args []any) (any, error) {
			m, err := arg[cabi.Variant](args, 0)
			if err != nil {
				return nil, err
			}
			if _, ok := methodString(m); !ok {
				return unit(false), nil
			}
			r.method = m
			return unit(true), nil
		}),
		"[method]outgoing-request.path-with-query": self(func(r *OutgoingRequest, _ []any) (any, error) {
			return optString(r.pathWithQuery), nil
		}),
		"[method]outgoing-request.set-path-with-query": self(func(r *OutgoingRequest, args []any) (any, error) {
			pq, err := optStringArg(args, 0)
			if err != nil {
				return nil, err
			}
			if pq != nil && !validPathWithQuery(*pq) {
				return unit(false), nil
			}
			r.pathWithQuery = pq
			return unit(true), nil
		}),
		"[method]outgoing-request.scheme": self(func(r *OutgoingRequest, _ []any) (any, error) {
			if r.scheme == nil {
				return cabi.None, nil
			}
			return cabi.Some(*r.scheme), nil
		}),
		"[method]outgoing-request.set-scheme": self(func(r *OutgoingRequest, args []any) (any, error) {
			o, err := arg[cabi.Option](args, 0)
			if err != nil {
				return nil, err
			}
			if !o.Some {
				r.scheme = nil
				return unit(true), nil
			}
			v, ok := o.Value.(cabi.Variant)
			if !ok {
				return nil, fmt.Errorf("wasihttp: scheme is %T", o.Value)
			}
			if _, ok := schemeString(v); !ok {
				return unit(false), nil
			}
			r.scheme = &v
			return unit(true), nil
		}),
		"[method]outgoing-request.authority": self(func(r *OutgoingRequest, _ []any) (any, error) {
			return optString(r.authority), nil
		}),
		"[method]outgoing-request.set-authority": self(func(r *OutgoingRequest, args []any) (any, error) {
			a, err := optStringArg(args, 0)
			if err != nil {
				return nil, err
			}
			if a != nil && !validAuthority(*a) {
				return unit(false), nil
			}
			r.authority = a
			return unit(true), nil
		}),
		"[method]outgoing-request.headers": self(func(r *OutgoingRequest, _ []any) (any, error) {
			return r.headers.view(), nil
		}),

		// request-options
		"[constructor]request-options": func(context.Context, *component.Call, []any) ([]any, error) {
			return []any{&RequestOptions{}}, nil
		},
		"[method]request-options.connect-timeout": self(func(o *RequestOptions, _ []any) (any, error) {
			return optDuration(o.connect), nil
		}),
		"[method]request-options.set-connect-timeout": self(func(o *RequestOptions, args []any) (any, error) {
			d, err := optDurationArg(args, 0)
			o.connect = d
			return unit(true), err
		}),
		"[method]request-options.first-byte-timeout": self(func(o *RequestOptions, _ []any) (any, error) {
			return optDuration(o.firstByte), nil
		}),
		"[method]request-options.set-first-byte-timeout": self(func(o *RequestOptions, args []any) (any, error) {
			d, err := optDurationArg(args, 0)
			o.firstByte = d
			return unit(true), err
		}),
		"[method]request-options.between-bytes-timeout": self(func(o *RequestOptions, _ []any) (any, error) {
			return optDuration(o.betweenBytes), nil
		}),
		"[method]request-options.set-between-bytes-timeout": self(func(o *RequestOptions, args []any) (any, error) {
			d, err := optDurationArg(args, 0)
			o.betweenBytes = d
			return unit(true), err
		}),

		// response-outparam
		"[method]response-outparam.send-informational": self(func(o *ResponseOutparam, _ []any) (any, error) {
			// Unstable in the WIT and not offered by wasmtime either.
			return cabi.Err(internalError("informational responses are not supported").Code), nil
		}),
		"[static]response-outparam.set": func(_ context.Context, _ *component.Call, args []any) ([]any, error) {
			o, err := arg[*ResponseOutparam](args, 0)
			if err != nil {
				return nil, err
			}
			res, err := arg[cabi.Result](args, 1)
			if err != nil {
				return nil, err
			}
			return nil, o.setResponse(res)
		},

		// incoming-response
		"[method]incoming-response.status": self(func(r *IncomingResponse, _ []any) (any, error) {
			return r.status, nil
		}),
		"[method]incoming-response.headers": self(func(r *IncomingResponse, _ []any) (any, error) {
			return r.headers.view(), nil
		}),
		"[method]incoming-response.consume": self(func(r *IncomingResponse, _ []any) (any, error) {
			b, ok := r.consume()
			if !ok {
				return cabi.Err(nil), nil
			}
			return cabi.Ok(b), nil
		}),

		// incoming-body
		"[method]incoming-body.stream": self(func(b *IncomingBody, _ []any) (any, error) {
			s, ok := b.stream()
			if !ok {
				return cabi.Err(nil), nil
			}
			return cabi.Ok(s), nil
		}),
		"[static]incoming-body.finish": func(_ context.Context, _ *component.Call, args []any) ([]any, error) {
			b, err := arg[*IncomingBody](args, 0)
			if err != nil {
				return nil, err
			}
			return []any{b.finishBody()}, nil
		},

		// future-trailers
		"[method]future-trailers.subscribe": self(func(f *FutureTrailers, _ []any) (any, error) {
			return f.subscribe(), nil
		}),
		"[method]future-trailers.get": self(func(f *FutureTrailers, _ []any) (any, error) {
			return f.get(), nil
		}),

		// outgoing-response
		"[constructor]outgoing-response": func(_ context.Context, _ *component.Call, args []any) ([]any, error) {
			h, err := arg[*Fields](args, 0)
			if err != nil {
				return nil, err
			}
			return []any{newOutgoingResponse(h)}, nil
		},
		"[method]outgoing-response.status-code": self(func(r *OutgoingResponse, _ []any) (any, error) {
			return r.status, nil
		}),
		"[method]outgoing-response.set-status-code": self(func(r *OutgoingResponse, args []any) (any, error) {
			code, err := arg[uint16](args, 0)
			if err != nil {
				return nil, err
			}
			return unit(r.setStatus(code)), nil
		}),
		"[method]outgoing-response.headers": self(func(r *OutgoingResponse, _ []any) (any, error) {
			return r.headers.view(), nil
		}),
		"[method]outgoing-response.body": self(func(r *OutgoingResponse, _ []any) (any, error) {
			b, ok := r.takeBody()
			if !ok {
				return cabi.Err(nil), nil
			}
			return cabi.Ok(b), nil
		}),

		// outgoing-body
		"[method]outgoing-body.write": self(func(b *OutgoingBody, _ []any) (any, error) {
			s, ok := b.write()
			if !ok {
				return cabi.Err(nil), nil
			}
			return cabi.Ok(s), nil
		}),
		"[static]outgoing-body.finish": func(_ context.Context, _ *component.Call, args []any) ([]any, error) {
			b, err := arg[*OutgoingBody](args, 0)
			if err != nil {
				return nil, err
			}
			o, err := arg[cabi.Option](args, 1)
			if err != nil {
				return nil, err
			}
			var tr *Fields
			if o.Some {
				if tr, _ = o.Value.(*Fields); tr == nil {
					return nil, fmt.Errorf("wasihttp: trailers are %T", o.Value)
				}
			}
			if ec := b.finish(tr); ec != nil {
				return []any{cabi.Err(ec.Code)}, nil
			}
			return []any{cabi.Ok(nil)}, nil
		},

		// future-incoming-response
		"[method]future-incoming-response.subscribe": self(func(f *FutureIncomingResponse, _ []any) (any, error) {
			return f.subscribe(), nil
		}),
		"[method]future-incoming-response.get": self(func(f *FutureIncomingResponse, _ []any) (any, error) {
			return f.get(), nil
		}),
	}
}

// outgoingHandle is outgoing-handler.handle(own<outgoing-request>,
// option<own<request-options>>).
func outgoingHandle(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	req, err := arg[*OutgoingRequest](args, 0)
	if err != nil {
		return nil, err
	}
	o, err := arg[cabi.Option](args, 1)
	if err != nil {
		return nil, err
	}
	var opts *RequestOptions
	if o.Some {
		if opts, _ = o.Value.(*RequestOptions); opts == nil {
			return nil, fmt.Errorf("wasihttp: request options are %T", o.Value)
		}
	}
	res, err := handle(ctx, req, opts)
	if err != nil {
		return nil, err
	}
	return []any{res}, nil
}
