"""account.create, account.verify, account.file (SPEC R-C12, §12)."""
from __future__ import annotations

from marshmallow import fields, validate

from server.accounts import service
from server.common.schemas import StrictSchema
from server.sync_api.registry import MutationContext, registry

REAL_NAMES = ["personal", "enterprise"]


class AccountCreateArgs(StrictSchema):
    id = fields.UUID(required=True)
    customer_id = fields.UUID(required=True)
    account = fields.String(required=True, validate=validate.Length(min=1, max=100))
    real_name = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(REAL_NAMES))


class AccountVerifyArgs(StrictSchema):
    id = fields.UUID(required=True)
    real_name = fields.String(required=True, validate=validate.OneOf(REAL_NAMES))


class AccountFileArgs(StrictSchema):
    id = fields.UUID(required=True)


@registry.register("account.create", creates=lambda a: [a["id"]])
def account_create(args: dict, ctx: MutationContext) -> dict:
    account = service.create_account(AccountCreateArgs().load(args), ctx.user)
    return {"status": account.status.value}


@registry.register("account.verify")
def account_verify(args: dict, ctx: MutationContext) -> dict:
    data = AccountVerifyArgs().load(args)
    account = service.verify_account(data["id"], data["real_name"], ctx.user)
    return {"status": account.status.value}


@registry.register("account.file")
def account_file(args: dict, ctx: MutationContext) -> dict:
    account = service.file_account(AccountFileArgs().load(args)["id"], ctx.user)
    return {"status": account.status.value}
