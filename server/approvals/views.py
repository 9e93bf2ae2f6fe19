from flask_smorest import Blueprint

blp = Blueprint("approvals", __name__, url_prefix="/api/v1/approvals", description="approvals")
