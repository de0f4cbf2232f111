package federation

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// checkConstraints checks the constraints claim of every subordinate statement of the chain
// (§6.2) and returns the allowed_entity_types filter. For the statement issued by the entity
// at position j (the leaf is 0): max_path_length bounds the intermediates below it (j-1),
// naming_constraints apply to the entity IDs at positions 0..j-1, allowed_entity_types to the
// leaf's metadata (federation_entity is always allowed; several lists intersect). Errors:
// ErrPathTooLong, ErrConstraint.
func checkConstraints(stmts []*EntityStatement) (func(string) bool, error) {
	var lists [][]string
	for j := 1; j < len(stmts)-1; j++ {
		c := stmts[j].Constraints
		if c == nil {
			continue
		}
		if c.MaxPathLength != nil && j-1 > *c.MaxPathLength {
			return nil, fmt.Errorf("%w: %s allows %d intermediates below it, the chain has %d",
				ErrPathTooLong, stmts[j].Issuer, *c.MaxPathLength, j-1)
		}
		if nc := c.NamingConstraints; nc != nil {
			for k := 0; k < j; k++ {
				if err := checkName(stmts[k].Issuer, nc); err != nil {
					return nil, fmt.Errorf("naming constraints of %s: %w", stmts[j].Issuer, err)
				}
			}
		}
		if c.AllowedEntityTypes != nil {
			lists = append(lists, c.AllowedEntityTypes)
		}
	}
	return func(et string) bool {
		if et == EntityTypeFederation {
			return true
		}
		for _, l := range lists {
			if !slices.Contains(l, et) {
				return false
			}
		}
		return true
	}, nil
}

// checkName checks entity ID id against naming constraints: its host must match a permitted
// name (when any are given) and no excluded one. A name beginning with "." matches every
// subdomain of the rest; any other matches that host exactly (RFC 5280 §4.2.1.10, URI form).
func checkName(id string, nc *NamingConstraints) error {
	u, err := url.Parse(id)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	host := strings.ToLower(u.Hostname())
	match := func(name string) bool {
		name = strings.ToLower(name)
		if strings.HasPrefix(name, ".") {
			return strings.HasSuffix(host, name)
		}
		return host == name
	}
	for _, ex := range nc.Excluded {
		if match(ex) {
			return fmt.Errorf("%w: %s is excluded by %q", ErrConstraint, id, ex)
		}
	}
	if len(nc.Permitted) > 0 && !slices.ContainsFunc(nc.Permitted, match) {
		return fmt.Errorf("%w: %s is not within the permitted names", ErrConstraint, id)
	}
	return nil
}
