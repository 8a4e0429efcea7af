"""Registered-model operations of the client: create, describe, tag, alias (MLflow's names)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# Re-exported: part of this module's API since before the split.
from ._client_core import ClientCore
from ._edits import (
    Branch,
    check_tag,
    fresh,
    put,
    remove,
    setter,
)
from ._registration import (
    check_new_name,
    validated,
)
from ._rename import plan_rename, write_rename
from .errors import (
    RuleViolation,
    VersionNotFound,
)
from .paths import MODEL_FILE, MODELS_DIR, safe_join
from .policy import (
    alias_on_stage,
    enforce,
)
from .schema import ModelRecord
from .store import (
    ModelVersion,
    RegisteredModel,
    write_record,
)
from .uri import check_alias, check_model_name


class RegisteredModelOps(ClientCore):
    """``create_registered_model`` and the other changes to a model's ``model.yaml``."""

    # -- registered models -------------------------------------------------------

    @fresh
    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
        *,
        owners: Sequence[str] = (),
        branch: Branch = None,
    ) -> RegisteredModel:
        """Create ``models/NAME/model.yaml`` (MLflow's argument order: name, tags, description).

        >>> client.create_registered_model("churn", owners=["@ml-team"])  # doctest: +SKIP

        Raises:
            InvalidName: ``name`` is not a lowercase slug.
            AlreadyExists: the name (or a case variant of it) is taken.
            GitError: with ``branch``, the branch exists or the file has uncommitted edits.
        """
        check_model_name(name)
        check_new_name(self.root, name)
        record = validated(
            ModelRecord,
            {
                "name": name,
                "description": description or "",
                "owners": list(owners),
                "tags": dict(tags or {}),
            },
            "registered model",
        )
        path = safe_join(self.root, MODELS_DIR, name, MODEL_FILE)

        def write() -> None:
            write_record(path, record)

        self._apply(
            branch, f"create/{name}", f"Create registered model {name}", [self._rel(path)], write
        )
        return self.get_registered_model(name)

    @fresh
    def update_registered_model(
        self,
        name: str,
        description: str | None = None,
        *,
        branch: Branch = None,
    ) -> RegisteredModel:
        """Change the model's Markdown description."""
        model = self.get_registered_model(name)
        if description is None:
            return model
        return self._edit(
            model,
            setter("description", description),
            branch,
            f"describe/{name}",
            f"Describe {name}",
        )

    @fresh
    def rename_registered_model(
        self, name: str, new_name: str, *, branch: Branch = None
    ) -> RegisteredModel:
        """Move ``models/NAME/`` to ``models/NEW_NAME/`` and leave a redirect (MLflow's rename).

        ``models:/NAME/...`` keeps resolving, to NEW_NAME's versions, on every
        route (checkout, git URL, published site), with a logged note; the client
        itself answers to the new name only, as MLflow does.

        >>> client.rename_registered_model("churn", "churn-classifier")  # doctest: +SKIP

        Raises:
            InvalidName: either name is not a lowercase slug.
            NotFound: no registered model ``name``.
            AlreadyExists: ``new_name`` is taken, by a model or by another model's old name.
            GitError: with ``branch``, the branch exists or the folders have uncommitted edits.
        """
        plan = plan_rename(self.root, self.index, name, new_name)
        self._apply(
            branch,
            f"rename/{name}-to-{new_name}",
            plan.message,
            plan.paths,
            lambda: write_rename(self.root, plan),
        )
        return self.get_registered_model(new_name)

    @fresh
    def set_registered_model_tag(
        self, name: str, key: str, value: str, *, branch: Branch = None
    ) -> RegisteredModel:
        """Set the tag ``key`` of the registered model."""
        model = self.get_registered_model(name)
        check_tag(key, value)
        return self._edit(
            model,
            put("tags", key, value),
            branch,
            f"tag/{name}-{key}",
            f"Tag {name}: {key}={value}",
        )

    @fresh
    def delete_registered_model_tag(
        self, name: str, key: str, *, branch: Branch = None
    ) -> RegisteredModel:
        """Remove the tag ``key`` of the registered model (:class:`NotFound` if absent)."""
        model = self.get_registered_model(name)
        if key not in model.record.tags:
            raise VersionNotFound(f"{name} has no tag {key!r}")
        return self._edit(
            model,
            remove("tags", key),
            branch,
            f"tag/{name}-{key}-delete",
            f"Remove tag {key} from {name}",
        )

    @fresh
    def set_registered_model_alias(
        self, name: str, alias: str, version: int | str, *, branch: Branch = None
    ) -> ModelVersion:
        """Point ``name@alias`` at ``version`` (a one-line change when the alias exists).

        >>> client.set_registered_model_alias("churn", "champion", 3)  # doctest: +SKIP

        Raises:
            InvalidName: the alias reads as a version, ``latest`` or a stage.
            NotFound: no such model or version.
            RuleViolation: the version is in a stage aliases may not point into, or
                (with ``branch``) the alias already points there.
        """
        policy = self._policy_for(check_model_name(name))
        check_alias(alias, tuple(policy.stages))
        target = self.get_model_version(name, version)
        model = self.get_registered_model(name)
        enforce(alias_on_stage(policy, name, target.version, [alias], target.stage))
        before = model.aliases.get(alias)
        if before == target.version:
            if branch:
                raise RuleViolation(f"{name}@{alias} already points at v{target.version}")
            return target
        message = (
            f"Point {name}@{alias} at v{target.version}"
            if before is None
            else f"Move {name}@{alias}: v{before} → v{target.version}"
        )
        self._edit(
            model,
            put("aliases", alias, target.version),
            branch,
            f"alias/{name}-{alias}-v{target.version}",
            message,
        )
        return target  # the alias lives in model.yaml: the version itself is unchanged

    @fresh
    def delete_registered_model_alias(
        self, name: str, alias: str, *, branch: Branch = None
    ) -> None:
        """Remove ``name@alias``."""
        model = self.get_registered_model(name)
        if alias not in model.aliases:
            known = ", ".join(f"@{a}" for a in sorted(model.aliases)) or "none"
            raise VersionNotFound(f"{name} has no alias {alias!r}; its aliases: {known}")
        was = model.aliases[alias]
        self._edit(
            model,
            remove("aliases", alias),
            branch,
            f"alias/{name}-{alias}-delete",
            f"Remove {name}@{alias} (was v{was})",
        )
