"""Dissatisfaction alerts: left small until the alerts issue widens it."""
