package federation

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
)

// Standard metadata policy operators (§6.1.3.1), in the order they are applied (§6.1.4.2).
const (
	OpValue      = "value"
	OpAdd        = "add"
	OpDefault    = "default"
	OpOneOf      = "one_of"
	OpSubsetOf   = "subset_of"
	OpSupersetOf = "superset_of"
	OpEssential  = "essential"
)

// operators is the application order.
var operators = []string{OpValue, OpAdd, OpDefault, OpOneOf, OpSubsetOf, OpSupersetOf, OpEssential}

func isOperator(op string) bool { return slices.Contains(operators, op) }

// checkPolicyShape checks the JSON types of the standard operators' values: add, one_of,
// subset_of and superset_of take arrays, essential a boolean, default anything but null.
// Unknown operators are left for MergePolicies. Errors: ErrMalformed.
func checkPolicyShape(p Policy) error {
	for et, params := range p {
		for param, ops := range params {
			if ops == nil {
				return fmt.Errorf("%w: policy %s.%s is not an object", ErrMalformed, et, param)
			}
			for op, v := range ops {
				switch op {
				case OpAdd, OpOneOf, OpSubsetOf, OpSupersetOf:
					if _, ok := v.([]any); !ok {
						return fmt.Errorf("%w: policy %s.%s: %s takes an array", ErrMalformed, et, param, op)
					}
				case OpEssential:
					if _, ok := v.(bool); !ok {
						return fmt.Errorf("%w: policy %s.%s: essential takes a boolean", ErrMalformed, et, param)
					}
				case OpDefault:
					if v == nil {
						return fmt.Errorf("%w: policy %s.%s: default is null", ErrMalformed, et, param)
					}
				}
			}
		}
	}
	return nil
}

// MergePolicies merges the policy of a superior with that of its subordinate (§6.1.4.1),
// returning a new policy; neither argument is changed. Operators of one side only are copied;
// for an operator on both sides: value and default must be equal, add and superset_of are
// united, one_of is intersected (an empty result is a conflict), subset_of is intersected (an
// empty result is allowed), essential is true if either is. Every merged parameter must then
// combine its operators as §6.1.3.1 allows (see checkCombination). Operators outside the
// standard set are dropped unless named in crit, which fails (this package understands none).
// Errors: ErrPolicyConflict, ErrMalformed.
func MergePolicies(superior, subordinate Policy, crit []string) (Policy, error) {
	if err := checkPolicyShape(superior); err != nil {
		return nil, err
	}
	if err := checkPolicyShape(subordinate); err != nil {
		return nil, err
	}
	out := Policy{}
	for _, et := range unionKeys(superior, subordinate) {
		sp, bp := superior[et], subordinate[et]
		params := map[string]map[string]any{}
		for _, param := range unionKeys(sp, bp) {
			merged, err := mergeOps(sp[param], bp[param], crit)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", et, param, err)
			}
			if err := checkCombination(merged); err != nil {
				return nil, fmt.Errorf("%s.%s: %w", et, param, err)
			}
			params[param] = merged
		}
		out[et] = params
	}
	return out, nil
}

func unionKeys[V any](a, b map[string]V) []string {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// mergeOps merges the operators of one parameter.
func mergeOps(sup, sub map[string]any, crit []string) (map[string]any, error) {
	out := map[string]any{}
	for _, op := range unionKeys(sup, sub) {
		if !isOperator(op) {
			if slices.Contains(crit, op) {
				return nil, fmt.Errorf("%w: critical policy operator %q is not understood", ErrMalformed, truncate(op))
			}
			continue
		}
		a, inA := sup[op]
		b, inB := sub[op]
		switch {
		case !inB:
			out[op] = a
			continue
		case !inA:
			out[op] = b
			continue
		}
		switch op {
		case OpValue, OpDefault:
			if !jsonEqual(a, b) {
				return nil, fmt.Errorf("%w: %s %s and %s differ", ErrPolicyConflict, op, short(a), short(b))
			}
			out[op] = a
		case OpAdd, OpSupersetOf:
			out[op] = union(a.([]any), b.([]any))
		case OpOneOf:
			v := intersect(a.([]any), b.([]any))
			if len(v) == 0 {
				return nil, fmt.Errorf("%w: one_of %s and %s have nothing in common", ErrPolicyConflict, short(a), short(b))
			}
			out[op] = v
		case OpSubsetOf:
			out[op] = intersect(a.([]any), b.([]any))
		case OpEssential:
			out[op] = a.(bool) || b.(bool)
		}
	}
	return out, nil
}

// checkCombination checks the operators of one parameter against the combinations of
// §6.1.3.1: value with add (value an array holding every added value), default (value not
// null), one_of (value one of them, or null), subset_of (value a subset, or null),
// superset_of (value a superset, or null), essential true (value not null); add with
// subset_of (added values a subset); subset_of with superset_of (superset_of a subset of
// subset_of); one_of never with add, subset_of or superset_of. Errors: ErrPolicyConflict.
func checkCombination(ops map[string]any) error {
	has := func(op string) bool { _, ok := ops[op]; return ok }
	list := func(op string) []any { l, _ := ops[op].([]any); return l }
	if has(OpOneOf) {
		for _, other := range []string{OpAdd, OpSubsetOf, OpSupersetOf} {
			if has(other) {
				return fmt.Errorf("%w: one_of cannot be combined with %s", ErrPolicyConflict, other)
			}
		}
	}
	if has(OpValue) {
		v := ops[OpValue]
		vl, isList := v.([]any)
		if has(OpAdd) && (!isList || !subset(list(OpAdd), vl)) {
			return fmt.Errorf("%w: value %s does not hold add %s", ErrPolicyConflict, short(v), short(ops[OpAdd]))
		}
		if has(OpDefault) && v == nil {
			return fmt.Errorf("%w: value null with default", ErrPolicyConflict)
		}
		if has(OpOneOf) && v != nil && !contains(list(OpOneOf), v) {
			return fmt.Errorf("%w: value %s not in one_of", ErrPolicyConflict, short(v))
		}
		if has(OpSubsetOf) && v != nil && (!isList || !subset(vl, list(OpSubsetOf))) {
			return fmt.Errorf("%w: value %s not a subset of subset_of", ErrPolicyConflict, short(v))
		}
		if has(OpSupersetOf) && v != nil && (!isList || !subset(list(OpSupersetOf), vl)) {
			return fmt.Errorf("%w: value %s not a superset of superset_of", ErrPolicyConflict, short(v))
		}
		if ess, _ := ops[OpEssential].(bool); ess && v == nil {
			return fmt.Errorf("%w: value null with essential true", ErrPolicyConflict)
		}
	}
	if has(OpAdd) && has(OpSubsetOf) && !subset(list(OpAdd), list(OpSubsetOf)) {
		return fmt.Errorf("%w: add %s not a subset of subset_of", ErrPolicyConflict, short(ops[OpAdd]))
	}
	if has(OpSubsetOf) && has(OpSupersetOf) && !subset(list(OpSupersetOf), list(OpSubsetOf)) {
		return fmt.Errorf("%w: superset_of %s not a subset of subset_of", ErrPolicyConflict, short(ops[OpSupersetOf]))
	}
	return nil
}

// ApplyPolicy applies the (merged) policy of one entity type to that type's metadata
// (§6.1.4.2) and returns the result; metadata is not changed. Per parameter the operators run
// in the order value (null removes the parameter), add, default, one_of, subset_of (the
// parameter becomes its intersection with subset_of, possibly empty), superset_of,
// essential. Errors: ErrPolicyViolation naming the parameter and operator; ErrPolicyConflict
// for an operator combination §6.1.3.1 forbids.
func ApplyPolicy(metadata map[string]any, policy map[string]map[string]any) (map[string]any, error) {
	out := maps.Clone(metadata)
	if out == nil {
		out = map[string]any{}
	}
	for _, param := range slices.Sorted(maps.Keys(policy)) {
		ops := policy[param]
		if err := checkCombination(ops); err != nil {
			return nil, fmt.Errorf("%s: %w", param, err)
		}
		for _, op := range operators {
			pv, ok := ops[op]
			if !ok {
				continue
			}
			cur, present := out[param]
			switch op {
			case OpValue:
				if pv == nil {
					delete(out, param)
				} else {
					out[param] = pv
				}
			case OpAdd:
				if !present {
					out[param] = slices.Clone(pv.([]any))
					continue
				}
				cl, ok := cur.([]any)
				if !ok {
					return nil, fmt.Errorf("%w: %s: add to a value that is not an array", ErrPolicyViolation, param)
				}
				out[param] = union(cl, pv.([]any))
			case OpDefault:
				if !present {
					out[param] = pv
				}
			case OpOneOf:
				if present && !contains(pv.([]any), cur) {
					return nil, fmt.Errorf("%w: %s: %s is not one_of %s", ErrPolicyViolation, param, short(cur), short(pv))
				}
			case OpSubsetOf:
				if !present {
					continue
				}
				cl, ok := cur.([]any)
				if !ok {
					return nil, fmt.Errorf("%w: %s: subset_of on a value that is not an array", ErrPolicyViolation, param)
				}
				out[param] = intersect(cl, pv.([]any))
			case OpSupersetOf:
				if !present {
					continue
				}
				cl, ok := cur.([]any)
				if !ok || !subset(pv.([]any), cl) {
					return nil, fmt.Errorf("%w: %s: %s is not a superset of %s", ErrPolicyViolation, param, short(cur), short(pv))
				}
			case OpEssential:
				if pv.(bool) && !present {
					return nil, fmt.Errorf("%w: %s is essential and missing", ErrPolicyViolation, param)
				}
			}
		}
	}
	return out, nil
}

// jsonEqual compares two decoded JSON values.
func jsonEqual(a, b any) bool { return reflect.DeepEqual(a, b) }

func contains(l []any, v any) bool {
	return slices.ContainsFunc(l, func(x any) bool { return jsonEqual(x, v) })
}

// subset reports whether every member of a is in b.
func subset(a, b []any) bool {
	for _, v := range a {
		if !contains(b, v) {
			return false
		}
	}
	return true
}

// union returns a followed by the members of b not in a.
func union(a, b []any) []any {
	out := slices.Clone(a)
	for _, v := range b {
		if !contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// intersect returns the members of a that are in b, in a's order; never nil.
func intersect(a, b []any) []any {
	out := []any{}
	for _, v := range a {
		if contains(b, v) && !contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// short renders a JSON value for an error message, truncated.
func short(v any) string {
	b, _ := json.Marshal(v)
	return truncate(string(b))
}
