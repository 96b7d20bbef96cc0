package jobs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/watch"
)

// apiTime reads a time the partner API wrote; zero when it is empty or
// malformed (a binding time is shown, never computed with).
func apiTime(s string) time.Time {
	t, _ := partnerapi.ParseTime(s)
	return t
}

// fromCreditListing is a direct customer as QueryCustomersCredit lists it,
// before DescribeCustomerInfo's details (its email is masked).
func fromCreditListing(cu partnerapi.QueryCustomersCreditData) store.Customer {
	return store.Customer{
		Uin: cu.ClientUin, Name: cu.Name, Email: cu.Email, Phone: cu.Mobile, Remark: cu.Remark,
		Credit: cu.Credit.String(), RemainingCredit: cu.RemainingCredit.String(), Force: cu.Force,
		AuthType: -1, BindTime: apiTime(cu.AssociationTime),
	}
}

// withDetails adds what DescribeCustomerInfo tells about a customer.
func withDetails(c *store.Customer, in partnerapi.DescribeCustomerInfoData) {
	c.AccountStatus, c.AuthStatus, c.AuthType, c.HasExpense = in.AccountStatus, in.AuthStatus, in.AuthType, in.HasExpense == 1
	// QueryCustomersCredit masks the email; the customer's own details
	// carry it whole, and the phone too.
	if in.Email != "" {
		c.Email = in.Email
	}
	if in.Phone != "" {
		c.Phone = in.Phone
	}
}

// fromIndirectListing is a second-level reseller's customer as
// QueryT1IndirectCustomersDetail lists it: all the distributor may read.
func fromIndirectListing(resellerUin uint64, cu partnerapi.QueryT1IndirectCustomersDetailResponseData) store.Customer {
	return store.Customer{Uin: uint64(cu.ClientUin), Name: cu.ClientName, ResellerUin: resellerUin, AuthType: -1,
		BindTime: apiTime(cu.ClientBindTime)}
}

// RefreshCustomer reads one customer again from the partner API and stores
// it, for a page that shows or has just changed that customer: a direct
// customer with QueryCustomersCredit (filtered by UIN) and
// DescribeCustomerInfo, an indirect one from its reseller's listing. A UIN
// that is no longer the partner's customer is removed from the table and
// answered with an error matching store.ErrNotFound. The calls go at the
// priority ctx carries (a person's, unless it says otherwise).
func RefreshCustomer(ctx context.Context, c *partnerapi.Client, db *store.DB, uin uint64) (store.Customer, error) {
	cu, err := readCustomer(ctx, c, db, uin)
	if errors.Is(err, store.ErrNotFound) {
		gone := db.Write(ctx, func(tx *store.Tx) error { return tx.DeleteCustomer(ctx, uin) })
		if gone != nil && !errors.Is(gone, store.ErrNotFound) {
			return store.Customer{}, fmt.Errorf("refresh customer %d: %w", uin, gone)
		}
	}
	if err != nil {
		return store.Customer{}, fmt.Errorf("refresh customer %d: %w", uin, err)
	}
	stored, err := store.WriteReturning(ctx, db, func(tx *store.Tx) (store.Customer, error) {
		if err := tx.UpsertCustomer(ctx, cu); err != nil {
			return store.Customer{}, err
		}
		if _, err := watch.Observe(ctx, tx, watchReads([]store.Customer{cu}), watch.Source{Via: "refresh"}); err != nil {
			return store.Customer{}, err
		}
		return tx.CustomerByUin(ctx, uin)
	})
	if err != nil {
		return store.Customer{}, fmt.Errorf("refresh customer %d: %w", uin, err)
	}
	return stored, nil
}

// readCustomer finds a customer at the partner API: among the reseller's
// customers the table says it belongs to, else among the direct customers,
// else with the reseller QuerySubAgentsDetailV2 names for it. ErrNotFound
// when it is none of them.
func readCustomer(ctx context.Context, c *partnerapi.Client, db *store.DB, uin uint64) (store.Customer, error) {
	tried := uint64(0)
	if owner, err := db.CustomerOwner(ctx, uin); err == nil && owner != 0 {
		cu, found, err := findIndirect(ctx, c, owner, uin)
		if err != nil || found {
			return cu, err
		}
		tried = owner
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Customer{}, err
	}
	resp, err := c.QueryCustomersCredit(ctx, &partnerapi.QueryCustomersCreditRequest{
		FilterType: "ClientUin", Filter: strconv.FormatUint(uin, 10), Page: 1, PageSize: 10,
	})
	if err != nil {
		return store.Customer{}, err
	}
	for _, listed := range resp.Data {
		if listed.ClientUin != uin {
			continue
		}
		cu := []store.Customer{fromCreditListing(listed)}
		if err := addDetails(ctx, c, cu); err != nil {
			return store.Customer{}, err
		}
		return cu[0], nil
	}
	owners, err := c.QuerySubAgentsDetailV2(ctx, &partnerapi.QuerySubAgentsDetailV2Request{
		FilterType: "ClientUin", Filter: strconv.FormatUint(uin, 10), Page: 1, PageSize: 10,
	})
	if partnerapi.ErrorCode(err) == codeNoAuth {
		return store.Customer{}, fmt.Errorf("not a customer of the partner: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Customer{}, err
	}
	for _, r := range owners.Data {
		if r.SubAgentUin <= 0 || uint64(r.SubAgentUin) == tried {
			continue
		}
		cu, found, err := findIndirect(ctx, c, uint64(r.SubAgentUin), uin)
		if err != nil || found {
			return cu, err
		}
	}
	return store.Customer{}, fmt.Errorf("not a customer of the partner: %w", store.ErrNotFound)
}

// findIndirect looks for a customer among a reseller's, a page at a time.
func findIndirect(ctx context.Context, c *partnerapi.Client, resellerUin, uin uint64) (store.Customer, bool, error) {
	for page := int64(1); ; page++ {
		batch, more, _, err := indirectPage(ctx, c, resellerUin, page)
		if partnerapi.ErrorCode(err) == "FailedOperation.InvalidSubAgentUin" {
			return store.Customer{}, false, nil // no longer a reseller of the partner
		}
		if err != nil {
			return store.Customer{}, false, err
		}
		for _, cu := range batch {
			if cu.Uin == uin {
				return cu, true, nil
			}
		}
		if !more {
			return store.Customer{}, false, nil
		}
	}
}
