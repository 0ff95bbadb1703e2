def siem_forward() -> int:
    return 0
