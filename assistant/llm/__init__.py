"""The language model stage: model files, llama.cpp loading, the tool-calling loop."""
