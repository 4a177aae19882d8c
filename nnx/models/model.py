"""``Model``: what every nnx model shares, whatever its topology.

``Model(inputs, outputs)`` itself makes a graph model (the functional API,
:class:`~nnx.models.functional.Functional`).

Keras's training surface (``compile``, ``fit``, ``evaluate``, ``predict``, ``train_step``,
``test_step``, weights and files) over a model's ``layers``; a subclass says how they connect by
implementing ``build``, ``forward``, ``compute_gradients`` and ``get_config``
(:class:`~nnx.models.sequential.Sequential`: a stack). The loops are in :mod:`nnx.training`,
files in :mod:`nnx.saving`, the summary table in :mod:`nnx.models.summary`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from os import PathLike
from typing import Any, ClassVar

import nnx.losses as losses_module
import nnx.metrics as metrics_module
import nnx.optimizers as optimizers_module
import nnx.saving as saving
import nnx.training as training
from nnx.backends import Backend, get_backend
from nnx.backends.base import Array, on_backend_device
from nnx.callbacks.base import Callback, History
from nnx.layers import ActivatedLayer, Layer, Parameter
from nnx.layers.activity import collect_activity, total_penalty
from nnx.layers.base import Backprop, Shape, no_backprop
from nnx.layers.masking import timestep_view
from nnx.layers.parameter import FlatParameters
from nnx.layers.symbolic import current_trace, is_symbolic
from nnx.models.compiled_step import check_jit_compile
from nnx.models.summary import summary_html, summary_lines, summary_short
from nnx.saving.state import require_built
from nnx.training.inputs import require_compiled
from nnx.training.interrupts import deferred_interrupts
from nnx.training.loop import batch_rows
from nnx.training.strategy import current_strategy
from nnx.utils import next_seed
from nnx.validation import check_bool, check_choice

__all__ = ["Model"]


class Model:
    """Base class of nnx models: the layers, the compile settings and the training step.

    The backend is resolved when the model is created and kept for its life: changing the
    default backend later never moves a live model. ``fit``/``evaluate``/``predict`` accept host
    data (NumPy arrays, lists) or arrays of the model's backend.

    Args:
        backend: ``"numpy"``, ``"cupy"``, ``"array_api_strict"``, a Backend, or None for the
            current default (see :func:`nnx.get_backend`).
        seed: seed of the weight initialisation, dropout masks and shuffling.
        dtype: float dtype of weights and activations (``"float32"`` or ``"float64"``).
        name: the model's name.

    Attributes:
        layers: the model's layers.
        built: whether the weights exist (``build``, or the first ``fit``).
        compiled: whether :meth:`compile` set an optimizer and a loss.
        stop_on_nonfinite: the ``compile`` setting read by ``fit``.
        stop_training: set True by a callback to end ``fit`` after the current batch/epoch.
        history: the :class:`~nnx.callbacks.History` of the last ``fit``.
    """

    #: the class ``Model(inputs, outputs)`` makes: the graph model, which registers itself
    #: here (:mod:`nnx.models.functional` imports this module, so this one cannot import it)
    graph_class: ClassVar[type[Model] | None] = None
    #: the methods a subclass defining ``call`` gets (Keras model subclassing); set by
    #: :mod:`nnx.models.subclassed_model`, which imports this module
    subclass_methods: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass defining ``call`` (and not ``forward``) is built by tracing ``call``
        (see :mod:`nnx.models.subclassed_model`)."""
        super().__init_subclass__(**kwargs)
        if "call" in cls.__dict__ and cls.forward is Model.forward:
            for name, method in Model.subclass_methods.items():
                if getattr(cls, name) is getattr(Model, name):
                    setattr(cls, name, method)

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        """``Model(inputs, outputs)`` (or with ``inputs=``/``outputs=``) makes a graph model,
        :class:`~nnx.models.functional.Functional`, as in Keras; subclasses are made as is."""
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            if Model.graph_class is None:  # pragma: no cover (nnx.models registers it)
                raise RuntimeError("import nnx.models.functional before Model(inputs, outputs).")
            return super().__new__(Model.graph_class)
        return super().__new__(cls)

    def __init__(
        self,
        *,
        backend: str | Backend | None = None,
        seed: int | None = None,
        dtype: str = "float32",
        name: str = "model",
    ) -> None:
        check_choice(dtype, "dtype", ("float32", "float64"), who=type(self).__name__)
        self.backend = get_backend(backend)
        seed = next_seed() if seed is None else seed  # set by nnx.utils.set_random_seed
        self.seed, self.dtype, self.name = seed, dtype, name
        self.layers: list[Layer] = []
        self.built = False
        self.optimizer: optimizers_module.Optimizer | None = None
        self.loss: losses_module.Loss | None = None
        self.metrics: list[metrics_module.Metric] = []
        self.stop_training = False
        #: set by :meth:`compile`; read by ``fit`` (see :mod:`nnx.training.nonfinite`)
        self.stop_on_nonfinite = True
        #: set by :meth:`compile` (see :mod:`nnx.models.compiled_step`)
        self.jit_compile: bool | str = "auto"
        self.run_eagerly = False
        self._fused_loss: losses_module.Loss | None = None
        self.history: History | None = None
        self.rng = self.backend.rng(seed)
        self.input_shape: Shape = ()
        self.output_shape: Shape = ()
        #: the timestep mask of the last forward's output (None: no masking), for the metrics
        self.output_mask: Array | None = None

    # --- what a subclass defines ------------------------------------------------------------
    def build(self, input_shape: Sequence[int | None] | None = None) -> None:
        """Create every layer's weights for samples of ``input_shape`` (no batch axis)."""
        raise NotImplementedError

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        """The whole model as one layer: ``(y, backprop)``, ``backprop(dy) -> dx``."""
        raise NotImplementedError

    def forward_masked(
        self, x: Array, *, training: bool = False
    ) -> tuple[Array, Backprop, Array | None]:
        """:meth:`forward` plus the output's timestep mask (see :mod:`nnx.layers.masking`)."""
        y, backprop = self.forward(x, training=training)
        return y, backprop, None

    def compute_gradients(
        self, x: Array, y: Array, sample_weight: Array | None = None
    ) -> tuple[Array, Array]:
        """Forward and backward on a batch: sets every parameter's ``.grad`` (penalties
        included) and returns ``(loss, y_pred)``; the weights are not changed."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """The architecture as JSON-serialisable data."""
        raise NotImplementedError

    # --- weights ----------------------------------------------------------------------------
    def parameters(self) -> list[Parameter]:
        """Every weight of every layer (trainable and not), in layer order."""
        return [p for layer in self.layers for p in layer.parameters()]

    def trainable_parameters(self) -> list[Parameter]:
        """The parameters the optimizer updates, in layer order."""
        return [p for p in self.parameters() if p.trainable]

    def count_params(self) -> int:
        """The number of scalars in every parameter."""
        return sum(p.size for p in self.parameters())

    @property
    def output_layer(self) -> Layer | None:
        """The layer whose output is the model's (its activation may fuse with the loss)."""
        return self.layers[-1] if self.layers else None

    @property
    def compiled(self) -> bool:
        """Whether :meth:`compile` has set an optimizer and a loss."""
        return self.loss is not None and self.optimizer is not None

    @property
    def trainable(self) -> bool:
        """Whether any layer trains; setting it freezes or unfreezes every layer (Keras's
        ``model.trainable = False``, e.g. for a pretrained base)."""
        return any(layer.trainable for layer in self.layers)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        for layer in self.layers:
            layer.trainable = value

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called ``name``, or at position ``index`` (Keras's ``get_layer``).

        Raises:
            ValueError: neither or both given, no such name, or an index out of range.

        >>> import nnx
        >>> model = nnx.Sequential([nnx.layers.Dense(2, input_shape=(3,), name="hidden")])
        >>> model.get_layer("hidden") is model.get_layer(index=0)
        True
        """
        who = f"{type(self).__name__}.get_layer"
        if (name is None) == (index is None):
            raise ValueError(f"{who}: give a name or an index, received {name=}, {index=}.")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int):
                raise ValueError(f"{who}: index must be an int, received index={index!r}.")
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(
                    f"{who}: index={index} is out of range for a model of "
                    f"{len(self.layers)} layers."
                )
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        names = ", ".join(repr(layer.name) for layer in self.layers)
        raise ValueError(f"{who}: no layer named {name!r}; the layers are {names}.")

    @property
    def metrics_names(self) -> list[str]:
        """``["loss", *compiled metric names]``: the order of :meth:`evaluate`'s list."""
        return ["loss", *(m.name for m in self.metrics)] if self.compiled else []

    # --- compile, steps ---------------------------------------------------------------------
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: Sequence[Any] | None = None,
        stop_on_nonfinite: bool = True,
        *,
        jit_compile: bool | str = "auto",
        run_eagerly: bool = False,
    ) -> None:
        """Choose the optimizer, the loss and the metrics reported during training.

        When the last layer's activation pairs with the loss (sigmoid + binary cross-entropy,
        softmax + (sparse) categorical cross-entropy), training uses the fused gradient
        ``dz = p - y`` on the logits: exact, stable and cheaper.

        Args:
            optimizer: a name (``"adam"``), a config dict or an ``nnx.optimizers`` object.
            loss: a name (``"binary_crossentropy"``), a config dict or an ``nnx.losses`` object.
            metrics: names or ``nnx.metrics`` objects with a scalar result, logged per epoch.
            stop_on_nonfinite: ``fit`` stops at the first batch whose loss, a gradient or an
                updated weight is NaN/Inf, keeping the weights from before it (see
                :mod:`nnx.training.nonfinite`); False trains on regardless. Stored as
                ``model.stop_on_nonfinite``.
            jit_compile: ``True`` runs a small ``Dense`` stack's forward, loss and backward as
                one compiled call where the backend can (NumPy with numba), ``False`` never,
                ``"auto"`` once the model has taken enough steps to repay loading the compiler
                (:mod:`nnx.models.compiled_step`). Stored as ``model.jit_compile``.
            run_eagerly: ``True`` runs the layers one by one at every step, as Keras's
                eager mode: no compiled step (with ``jit_compile=True`` too: a warning).
        """
        who = f"{type(self).__name__}.compile"
        self.stop_on_nonfinite = check_bool(stop_on_nonfinite, "stop_on_nonfinite", who=who)
        self.jit_compile = check_jit_compile(jit_compile, who, run_eagerly)
        self.run_eagerly = run_eagerly
        if loss is None:
            raise ValueError(
                f"{type(self).__name__}.compile needs a loss; valid losses: "
                f"{', '.join(losses_module.names())}."
            )
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = losses_module.get(loss)
        self.metrics = [metrics_module.get(m, self.loss.registry_name) for m in metrics or []]
        for metric in self.metrics:
            if not metric.scalar:
                raise ValueError(
                    f"compile: metric {metric.name!r} ({type(metric).__name__}) has a "
                    "non-scalar result and cannot be logged per epoch; update it yourself "
                    "with metric.update_state(y, model.predict(x)) after fit."
                )
        last = self.output_layer
        self._fused_loss = None
        if (
            isinstance(last, ActivatedLayer)
            and not self.loss.from_logits
            and self.loss.fuses_with == last.activation.name
            and last.activity_regularizer is None
        ):
            self._fused_loss = self.loss.with_logits()

    @on_backend_device
    def __call__(self, x: Array) -> Array:
        """Inference on an array of the model's backend."""
        if is_symbolic(x) or current_trace() is not None:
            return self.call_symbolic(x)
        require_built(self, "__call__")
        with no_backprop():
            return self.forward(x, training=False)[0]

    def call_symbolic(self, x: Any) -> Any:
        """``model(x)`` on symbolic tensors (a model used as a layer in a graph or in a
        subclassed layer's ``call``): a ``Sequential`` records its layers' calls; others
        cannot yet be nested."""
        raise TypeError(
            f"Model {self.name!r} cannot be called on symbolic tensors: nesting a model "
            f"({type(self).__name__}) in a graph is not supported (a Sequential is); call its "
            "layers on the tensors instead."
        )

    def compute_loss(self, y: Array, y_pred: Array, sample_weight: Array | None = None) -> Array:
        """The compiled loss plus every regularization penalty (a 0-d array)."""
        assert self.loss is not None
        total = self.loss(y, y_pred, sample_weight)
        for p in self.parameters():
            if p.regularizer is not None:
                total = total + p.regularizer(p.value)
        return total

    @on_backend_device
    def train_step(self, x: Array, y: Array, sample_weight: Array | None = None) -> Array:
        """One optimizer update on a batch; returns the batch loss as a 0-d array.

        Updates the compiled metrics' running state. Never synchronises with the device. The
        update is atomic under Ctrl-C: a ``KeyboardInterrupt`` leaves the weights, the
        optimizer's slots and ``iterations`` all before or all after it
        (:mod:`nnx.training.interrupts`).
        """
        require_compiled(self, "train_step")
        assert self.optimizer is not None
        strategy = current_strategy()
        loss, y_pred = self.compute_gradients(x, y, sample_weight)
        params = self._trainable
        loss = strategy.reduce_gradients(params, loss, batch_rows(x))
        with deferred_interrupts():
            self.optimizer.step(params)
        if self.metrics:
            view = timestep_view(y, y_pred, self.output_mask, sample_weight, normalize=False)
            y_seen, p_seen, w_seen = strategy.gather(*view[:3])
            for metric in self.metrics:
                metric.update_state(y_seen, p_seen, w_seen)
        return loss

    @on_backend_device
    def test_step(self, x: Array, y: Array, sample_weight: Array | None = None) -> Array:
        """Loss (with penalties) of a batch in inference mode; updates the metrics' state."""
        require_compiled(self, "test_step")
        strategy = current_strategy()
        with no_backprop(), collect_activity() as penalties:
            y_pred, _, mask = self.forward_masked(x, training=False)
        if self.metrics:
            view = timestep_view(y, y_pred, mask, sample_weight, normalize=False)
            y_seen, p_seen, w_seen = strategy.gather(*view[:3])
            for metric in self.metrics:
                metric.update_state(y_seen, p_seen, w_seen)
        loss = self.compute_loss(*timestep_view(y, y_pred, mask, sample_weight, normalize=True)[:3])
        loss = total_penalty(loss, penalties)
        return strategy.reduce_loss(loss, batch_rows(x))

    def _parameter_lists(self) -> tuple[list[Parameter], list[Parameter], int]:
        """``(trainable, regularized, index of the first layer with weights)``, rebuilt only
        when a layer was added or removed or a parameter created or changed
        (:attr:`Parameter.changes`), not at every step."""
        key = (Parameter.changes, tuple(self.layers))
        cached = self.__dict__.get("_lists")
        if cached is None or cached[0] != key:
            params = self.trainable_parameters()
            regularized = [p for p in params if p.regularizer is not None]
            first = next((i for i, layer in enumerate(self.layers) if layer.parameters()), 0)
            cached = self._lists = (key, params, regularized, first)
        return cached[1], cached[2], cached[3]

    @property
    def _trainable(self) -> list[Parameter]:
        """The trainable parameters, moved into flat buffers where the backend can
        (:class:`~nnx.layers.parameter.FlatParameters`: whole-buffer optimizer updates)."""
        params = self._parameter_lists()[0]
        flat = self.__dict__.get("_flat")
        if flat is not None and (flat is params or flat.matches(params)):
            return flat
        self._follow_trainable(params)
        flat = self._flat = FlatParameters.create(params, self.backend)
        if flat is not None:
            self._lists = (self._lists[0], flat, *self._lists[2:])  # next time: flat is params
        return params if flat is None else flat

    def _follow_trainable(self, params: list[Parameter]) -> None:
        """Re-key the optimizer's per-position state when the trainable set changed (a layer
        was frozen or unfrozen): each parameter keeps its own slots, new ones start fresh."""
        previous: list[Parameter] | None = self.__dict__.get("_optimized")
        self._optimized = list(params)
        same = previous is not None and len(previous) == len(params)
        if (
            previous is None
            or self.optimizer is None
            or (same and all(a is b for a, b in zip(previous, params, strict=True)))
        ):
            return
        state = self.optimizer.state_dict()
        slots, where = state["slots"], {id(p): i for i, p in enumerate(previous)}
        state["slots"] = [
            slots[where[id(p)]] if where.get(id(p), len(slots)) < len(slots) else None
            for p in params
        ]
        self.optimizer.load_state_dict({**state, "slots": []})  # forget the old positions
        self.optimizer.load_state_dict(state, params)

    @property
    def _regularized(self) -> list[Parameter]:
        """The trainable parameters with a penalty."""
        return self._parameter_lists()[1]

    # --- Keras API --------------------------------------------------------------------------
    @on_backend_device
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int = 32,
        epochs: int = 1,
        verbose: int = 1,
        callbacks: Sequence[Callback] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        initial_epoch: int = 0,
        sample_weight: Any = None,
        class_weight: dict[int, float] | None = None,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
    ) -> History:
        """Train for ``epochs`` epochs; returns a :class:`~nnx.callbacks.History`.

        Args:
            x, y: training inputs and targets (host or backend arrays); or ``x`` alone, a
                :class:`~nnx.data.PyDataset` or a Python iterable/generator of ``(x, y)`` or
                ``(x, y, sample_weight)`` batches, moved to the device batch by batch.
                Targets of shape ``(n,)`` for an ``(n, 1)`` output are expanded, as in Keras.
            batch_size: samples per update (arrays only).
            epochs: index of the last epoch (training runs from ``initial_epoch``).
            verbose: 0 silent, 1 progress bar, 2 one line per epoch.
            callbacks: :class:`~nnx.callbacks.Callback` instances, called in order before
                the ``History`` and the progress bar.
            validation_split: fraction of the data (taken from the end, before shuffling)
                held out for validation (arrays only).
            validation_data: ``(x_val, y_val)``, ``(x_val, y_val, sample_weight_val)``, a
                PyDataset or an iterable of batches.
            shuffle: reshuffle the training data (a PyDataset: its batch order) each epoch,
                seeded by the model's seed.
            initial_epoch: epoch to start from (for resuming; a callback such as
                ``BackupAndRestore`` may raise it through its ``resume_epoch``).
            sample_weight: per-sample weights of the loss, shape ``(n,)`` (arrays only).
            class_weight: ``{class index: weight}`` multiplying each sample's loss by its
                class's weight (classes not listed weigh 1); needs a classification loss.
            steps_per_epoch: batches per epoch drawn from a generator (required for one:
                it may be endless), continuing across epochs.
            validation_steps: the same for a generator given as ``validation_data``.

        Returns:
            The ``History``; ``history.nonfinite`` says where training stopped on a NaN/Inf
            (see ``compile(stop_on_nonfinite=...)``).
        """
        return training.fit(
            self,
            x,
            y,
            batch_size,
            epochs,
            verbose,
            callbacks,
            validation_split,
            validation_data,
            shuffle,
            initial_epoch,
            sample_weight,
            class_weight,
            steps_per_epoch,
            validation_steps,
        )

    @on_backend_device
    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int = 32,
        verbose: int = 0,
        sample_weight: Any = None,
        return_dict: bool = False,
        steps: int | None = None,
    ) -> float | list[float] | dict[str, float]:
        """Loss (penalties included) and metrics on data, in inference mode.

        ``x`` may also be a PyDataset or an iterable of batches (``steps`` of them from a
        generator), as in :meth:`fit`.

        Returns:
            A float (no metrics), a list ``[loss, *metrics]`` (in the order of
            :attr:`metrics_names`), or with ``return_dict`` a dict.
        """
        return training.evaluate(self, x, y, batch_size, verbose, sample_weight, return_dict, steps)

    @on_backend_device
    def predict(
        self, x: Any, batch_size: int = 32, verbose: int = 0, steps: int | None = None
    ) -> Any:
        """Outputs for ``x`` in inference mode, as a host NumPy array (like Keras).

        Args:
            x: inputs; or a PyDataset / iterable of batches (``x`` or ``(x, ...)`` each;
                ``steps`` of them from a generator).
            batch_size: samples per forward pass (arrays only).
            verbose: 0 silent; 1 or 2 print one line with the batch count and the time.
            steps: batches to read from a generator.
        """
        check_choice(verbose, "verbose", (0, 1, 2), who=f"{type(self).__name__}.predict")
        start = time.perf_counter()
        out = self.backend.to_numpy(training.predict(self, x, batch_size, steps))
        if verbose:
            print(f"predict: {out.shape[0]} samples - {time.perf_counter() - start:.2f}s")
        return out

    def predict_on_batch(self, x: Any) -> Any:
        """Outputs for one batch ``x`` in inference mode, as a host NumPy array (Keras's
        ``predict_on_batch``: one forward pass, whatever the batch size)."""
        first = x[0] if isinstance(x, (list, tuple)) else x
        return self.predict(x, batch_size=max(1, len(first)))

    def reset_states(self) -> None:
        """Reset the carried states of every stateful layer (Keras's
        ``model.reset_states()``; see :mod:`nnx.layers.stateful`)."""
        for layer in self.layers:
            for inner in (layer, *vars(layer).values()):
                if getattr(inner, "stateful", False) and hasattr(inner, "reset_states"):
                    inner.reset_states()

    def summary(self, print_fn: Any = print) -> None:
        """Print each layer's type, output shape and parameter count, and the totals."""
        for line in summary_lines(self):
            print_fn(line)

    def __repr__(self) -> str:
        return summary_short(self)

    def _repr_html_(self) -> str:
        """The summary table, for Jupyter."""
        return summary_html(self)

    def get_weights(self, copy: bool = True, host: bool = True) -> list[Any]:
        """Every parameter's value, in order: host NumPy arrays (default), or backend arrays
        (copies unless ``copy=False``)."""
        xp = self.backend.xp
        if host:
            return [self.backend.to_numpy(p.value).copy() for p in self.parameters()]
        return [xp.asarray(p.value, copy=True) if copy else p.value for p in self.parameters()]

    @on_backend_device
    def set_weights(self, weights: Sequence[Any]) -> None:
        """Replace every parameter's value (shapes must match :meth:`get_weights`)."""
        params = self.parameters()
        if len(weights) != len(params):
            raise ValueError(
                f"set_weights: the model has {len(params)} weight arrays, received {len(weights)}."
            )
        for p, w in zip(params, weights, strict=True):
            value = self.backend.asarray(w, dtype=self.dtype)
            if tuple(value.shape) != p.shape:
                raise ValueError(
                    f"set_weights: {p.name} has shape {p.shape}, received {tuple(value.shape)}."
                )
            p.value[...] = value

    # --- files (nnx.saving) ---------------------------------------------------------------
    def save(self, path: str | PathLike[str], include_optimizer: bool = True) -> None:
        """Write the whole model to one ``.npz`` file (see "Saving" in the README).

        Architecture (as JSON, registered layer names only), every parameter, the compile
        settings, optionally the optimizer state, and the random generators' states; the write
        is atomic. Load it back with :func:`nnx.load`, on any backend.
        """
        saving.save(self, path, include_optimizer)

    def save_weights(self, path: str | PathLike[str]) -> None:
        """Write only the parameter values (atomic ``.npz`` file)."""
        saving.save_weights(self, path)

    @on_backend_device
    def load_weights(
        self,
        path: str | PathLike[str],
        verify: Any = None,
        max_bytes: int = saving.DEFAULT_MAX_BYTES,
    ) -> None:
        """Load parameter values written by :meth:`save_weights` or :meth:`save` (shapes and
        dtypes must match this model's). ``verify``: an Ed25519 public key the file must be
        signed with (see :func:`nnx.load`); ``max_bytes``: refuse larger files."""
        saving.load_weights(self, path, verify, max_bytes)
