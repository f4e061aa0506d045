"""The six chapter models of the benchmark, built exactly as the book builds them.

`d2l` is passed in, so the same code runs with d2lutils and with the book's d2l.torch:
each build_* returns a function train(num_epochs) that calls the package's own train_ch3
or train_ch8 with the book's hyper-parameters (chapters 3.6, 3.7, 4.2, 4.3, 8.5, 8.6)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

CH3_MODELS = ("softmax_scratch", "softmax_concise", "mlp_scratch", "mlp_concise")
CH8_MODELS = ("rnn_scratch", "rnn_concise")
MODELS = CH3_MODELS + CH8_MODELS


def softmax_scratch(d2l):
    """3.6: softmax regression from scratch (own softmax, cross-entropy and sgd)."""
    num_inputs, num_outputs, lr = 784, 10, 0.1
    W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
    b = torch.zeros(num_outputs, requires_grad=True)

    def softmax(X):
        X_exp = torch.exp(X)
        return X_exp / X_exp.sum(1, keepdim=True)

    def net(X):
        return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)

    def cross_entropy(y_hat, y):
        return -torch.log(y_hat[range(len(y_hat)), y])

    def updater(batch_size):
        return d2l.sgd([W, b], lr, batch_size)

    return net, cross_entropy, updater


def _init_weights(m):
    if type(m) is nn.Linear:
        nn.init.normal_(m.weight, std=0.01)


def softmax_concise(d2l):
    """3.7: nn.Linear, CrossEntropyLoss(reduction='none'), torch.optim.SGD."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    net.apply(_init_weights)
    return net, nn.CrossEntropyLoss(reduction="none"), torch.optim.SGD(net.parameters(), lr=0.1)


def mlp_scratch(d2l):
    """4.2: one hidden layer of 256 ReLUs written by hand, trained with torch.optim.SGD."""
    num_inputs, num_outputs, num_hiddens = 784, 10, 256
    W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens, requires_grad=True) * 0.01)
    b1 = nn.Parameter(torch.zeros(num_hiddens, requires_grad=True))
    W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs, requires_grad=True) * 0.01)
    b2 = nn.Parameter(torch.zeros(num_outputs, requires_grad=True))
    params = [W1, b1, W2, b2]

    def relu(X):
        return torch.max(X, torch.zeros_like(X))

    def net(X):
        X = X.reshape((-1, num_inputs))
        H = relu(X @ W1 + b1)
        return H @ W2 + b2

    return net, nn.CrossEntropyLoss(reduction="none"), torch.optim.SGD(params, lr=0.1)


def mlp_concise(d2l):
    """4.3: nn.Sequential MLP."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    net.apply(_init_weights)
    return net, nn.CrossEntropyLoss(reduction="none"), torch.optim.SGD(net.parameters(), lr=0.1)


def rnn_scratch_parts():
    """8.5's get_params, init_rnn_state and rnn (a tanh RNN written by hand)."""

    def get_params(vocab_size, num_hiddens, device):
        num_inputs = num_outputs = vocab_size

        def normal(shape):
            return torch.randn(size=shape, device=device) * 0.01

        W_xh = normal((num_inputs, num_hiddens))
        W_hh = normal((num_hiddens, num_hiddens))
        b_h = torch.zeros(num_hiddens, device=device)
        W_hq = normal((num_hiddens, num_outputs))
        b_q = torch.zeros(num_outputs, device=device)
        params = [W_xh, W_hh, b_h, W_hq, b_q]
        for param in params:
            param.requires_grad_(True)
        return params

    def init_rnn_state(batch_size, num_hiddens, device):
        return (torch.zeros((batch_size, num_hiddens), device=device),)

    def rnn(inputs, state, params):
        # inputs: (num_steps, batch_size, vocab_size)
        W_xh, W_hh, b_h, W_hq, b_q = params
        H, = state
        outputs = []
        for X in inputs:
            H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
            Y = torch.mm(H, W_hq) + b_q
            outputs.append(Y)
        return torch.cat(outputs, dim=0), (H,)

    return get_params, init_rnn_state, rnn


def rnn_scratch(d2l, vocab, num_hiddens=512):
    get_params, init_rnn_state, rnn = rnn_scratch_parts()
    return d2l.RNNModelScratch(len(vocab), num_hiddens, torch.device("cpu"), get_params,
                               init_rnn_state, rnn)


def rnn_concise(d2l, vocab, num_hiddens=256):
    return d2l.RNNModel(nn.RNN(len(vocab), num_hiddens), vocab_size=len(vocab))


BUILD_CH3 = {"softmax_scratch": softmax_scratch, "softmax_concise": softmax_concise,
             "mlp_scratch": mlp_scratch, "mlp_concise": mlp_concise}
BUILD_CH8 = {"rnn_scratch": rnn_scratch, "rnn_concise": rnn_concise}
# The book's hyper-parameters: (batch_size, num_epochs) for chapter 3,
# (batch_size, num_steps, lr, num_epochs) for chapter 8.
CH3_SETTINGS = (256, 10)
CH8_SETTINGS = (32, 35, 1.0, 500)
__all__ = ["BUILD_CH3", "BUILD_CH8", "CH3_MODELS", "CH8_MODELS", "MODELS", "F"]
