// Package console is promoctl's web console for campaign operators and
// support: the Promotions list, the create form, a promotion's details with
// its customers and Manage access, a customer's support view and the
// Changes made from the console. Pages are compiled from a branch of the
// config repo's git repository with the same compiler as validate; every
// change runs the apply flow against the tree of the branch it writes to,
// is validated (the is_applied lock included) and becomes exactly one
// commit on a branch of the console's own (console/gitstore), never on the
// base branch and never in the checkout. Templates (templates/pages, one
// per page, and templates/partials, with typed helpers in helpers.go),
// styles and the small script are embedded; the pages work without
// JavaScript.
package console
