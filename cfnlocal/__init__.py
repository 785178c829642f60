"""A local stand-in for what CloudFormation and Lambda do around a custom resource.

Test support, reused by the demo: HTTPS response sink, real-shaped events, Lambda-like
containers over a built asset, and a lifecycle driver over a synthesized template.
"""
