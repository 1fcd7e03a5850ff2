"""The marketer dashboard (Streamlit), reading only the serving snapshot: see dashboard/README.md."""
