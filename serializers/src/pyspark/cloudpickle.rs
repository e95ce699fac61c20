//! Inspecting cloudpickled functions without executing them.
